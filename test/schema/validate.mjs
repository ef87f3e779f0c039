#!/usr/bin/env node
// validate.mjs: every object of kubetenant's rendered output against its
// upstream schema.
//
//   node validate.mjs CRD_DIR FILE.yaml...
//
// - CRD kinds: the openAPIV3Schema of the served version in CRD_DIR
//   ($KT_SHARED/schemas/crds), made strict the way the API server prunes:
//   a field the schema does not list is an error unless the schema keeps
//   unknown fields (x-kubernetes-preserve-unknown-fields).
// - Kubernetes core kinds: the npm package kubernetes-models; cert-manager
//   and Flux GitRepository: @kubernetes-models/cert-manager and flux-cd.
// - Gatekeeper constraints (no static CRD: Gatekeeper generates one per
//   template): spec.parameters against the template rendered in the same
//   file, spec.match against Gatekeeper's documented match fields.
// - Every file must read the same under YAML 1.1 (go-yaml v2, kubectl's
//   reader) and YAML 1.2, so no value can change type on the way in.
// An object whose kind has no schema here is an error, never a pass.
// Prints one line per failure and "N objects valid" at the end; exit 1 on
// any failure.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import Ajv from "ajv";

const [crdDir, ...files] = process.argv.slice(2);
if (!crdDir || files.length === 0) {
  console.error("usage: node validate.mjs CRD_DIR FILE...");
  process.exit(2);
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

// API-server-like strictness: objects with listed properties accept no others.
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strict(s)])) : strict(v);
  }
  if (out.properties && out.additionalProperties === undefined &&
      !out["x-kubernetes-preserve-unknown-fields"]) {
    out.additionalProperties = false;
  }
  return out;
}

// group/version/kind -> compiled validator, from every CRD file
const crds = new Map();
for (const f of fs.readdirSync(crdDir).filter((n) => n.endsWith(".yaml")).sort()) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(crdDir, f), "utf8"))) {
    const crd = doc.toJS();
    if (!crd || crd.kind !== "CustomResourceDefinition") continue;
    for (const v of crd.spec.versions || []) {
      if (!v.served || !v.schema) continue;
      crds.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`,
        { file: f, schema: strict(v.schema.openAPIV3Schema) });
    }
  }
}

// core kinds: apiVersion -> module of kubernetes-models
const modelModules = {
  "cert-manager.io/v1": "@kubernetes-models/cert-manager/cert-manager.io/v1",
  "source.toolkit.fluxcd.io/v1": "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1",
};
const coreGroups = new Set(["v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
  "networking.k8s.io/v1", "admissionregistration.k8s.io/v1"]);
async function modelFor(apiVersion, kind) {
  const mod = modelModules[apiVersion] ||
    (coreGroups.has(apiVersion) ? `kubernetes-models/${apiVersion}` : null);
  if (!mod) return null;
  const m = await import(mod);
  return m[kind] || null;
}

const labelSelector = {
  type: "object", additionalProperties: false,
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: { type: "array", items: { type: "object", additionalProperties: false,
      required: ["key", "operator"],
      properties: { key: { type: "string" }, operator: { enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
        values: { type: "array", items: { type: "string" } } } } },
  },
};
// Gatekeeper's constraint match (website/docs/howto.md "The match field")
const gatekeeperMatch = ajv.compile({
  type: "object", additionalProperties: false,
  properties: {
    kinds: { type: "array", items: { type: "object", additionalProperties: false,
      properties: { apiGroups: { type: "array", items: { type: "string" } },
        kinds: { type: "array", items: { type: "string" } } } } },
    scope: { enum: ["*", "Cluster", "Namespaced"] },
    namespaces: { type: "array", items: { type: "string" } },
    excludedNamespaces: { type: "array", items: { type: "string" } },
    labelSelector, namespaceSelector: labelSelector,
    name: { type: "string" },
  },
});

let failures = 0, valid = 0;
function fail(file, obj, msg) {
  failures++;
  const md = (obj && obj.metadata) || {};
  console.log(`${file}: ${obj && obj.kind}/${md.namespace ? md.namespace + "/" : ""}${md.name}: ${msg}`);
}
function ajvErrors(errors) {
  return (errors || []).map((e) => `${e.instancePath || "/"} ${e.message}` +
    (e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : "")).join("; ");
}

for (const file of files) {
  const text = fs.readFileSync(file, "utf8");
  const docs12 = YAML.parseAllDocuments(text);
  const docs11 = YAML.parseAllDocuments(text, { version: "1.1" });
  const objs = [];
  docs12.forEach((d, i) => {
    if (d.errors.length) fail(file, null, `document ${i + 1}: ${d.errors[0].message}`);
    const a = d.toJS(), b = docs11[i].toJS();
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      fail(file, a, "reads differently under YAML 1.1 and YAML 1.2");
    }
    objs.push(a);
  });
  const templates = new Map();
  const seen = new Set();
  for (const o of objs) {
    if (o && o.kind === "ConstraintTemplate") {
      templates.set(o.spec.crd.spec.names.kind, ajv.compile(strict(o.spec.crd.spec.validation.openAPIV3Schema)));
    }
  }
  for (const o of objs) {
    if (!o || typeof o !== "object" || !o.apiVersion || !o.kind || !o.metadata || !o.metadata.name) {
      fail(file, o, "not a Kubernetes object (apiVersion, kind, metadata.name)");
      continue;
    }
    const id = `${o.apiVersion}/${o.kind}/${o.metadata.namespace || ""}/${o.metadata.name}`;
    if (seen.has(id)) fail(file, o, "rendered twice");
    seen.add(id);
    const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
    const crd = crds.get(`${group}/${version}/${o.kind}`);
    if (crd) {
      const v = crd.validate || (crd.validate = ajv.compile(crd.schema));
      if (v(o)) valid++;
      else fail(file, o, `${crd.file}: ${ajvErrors(v.errors)}`);
      continue;
    }
    if (group === "constraints.gatekeeper.sh") {
      const params = templates.get(o.kind);
      if (!params) { fail(file, o, "no ConstraintTemplate for this kind in the same output"); continue; }
      const extra = Object.keys(o.spec || {}).filter((k) => !["match", "parameters", "enforcementAction"].includes(k));
      if (extra.length) fail(file, o, `unknown spec fields ${extra}`);
      else if (!gatekeeperMatch(o.spec.match || {})) fail(file, o, `match: ${ajvErrors(gatekeeperMatch.errors)}`);
      else if (!params(o.spec.parameters || {})) fail(file, o, `parameters: ${ajvErrors(params.errors)}`);
      else valid++;
      continue;
    }
    const Model = await modelFor(o.apiVersion, o.kind);
    if (!Model) { fail(file, o, `no schema known for ${o.apiVersion} ${o.kind}`); continue; }
    try {
      new Model(o).validate();
      valid++;
    } catch (e) {
      fail(file, o, e.message);
    }
  }
}
console.log(`${valid} objects valid, ${failures} failures`);
process.exit(failures ? 1 : 0);
