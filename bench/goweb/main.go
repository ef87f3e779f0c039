// goweb: the minimal Go admission webhook that bench/serve.sh runs beside
// kubetenant serve and nginx (issue #15): what a webhook on the Go stack
// costs at the least.  net/http over TLS, encoding/json into
// map[string]interface{}, three checks on a Pod (its namespace is a
// tenant's, the tenant's node pool is selected and tolerated, no
// hostNetwork), an encoding/json answer with a JSON Patch.  Tenants are the
// ones scripts/gen-tenants.sh writes: tenant-0001... on pool-01...
// Standard library only.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
)

const poolKey = "kubetenant.io/node-pool"

var pools map[string]string // namespace -> node pool

type status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type response struct {
	UID       string  `json:"uid"`
	Allowed   bool    `json:"allowed"`
	PatchType string  `json:"patchType,omitempty"`
	Patch     []byte  `json:"patch,omitempty"`
	Status    *status `json:"status,omitempty"`
}

type review struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Response   response `json:"response"`
}

type op struct {
	Op    string      `json:"op"`
	Path  string      `json:"path"`
	Value interface{} `json:"value"`
}

func obj(v interface{}) map[string]interface{} {
	m, _ := v.(map[string]interface{})
	return m
}

// decide answers one review: the verdict, and with mutate the patch.
func decide(body []byte, mutate bool) (*review, error) {
	var in map[string]interface{}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	req := obj(in["request"])
	uid, _ := req["uid"].(string)
	if req == nil || uid == "" {
		return nil, fmt.Errorf("not an AdmissionReview")
	}
	out := &review{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview",
		Response: response{UID: uid, Allowed: true}}
	deny := func(msg string) (*review, error) {
		out.Response.Allowed = false
		out.Response.Status = &status{Code: 403, Message: msg}
		return out, nil
	}
	ns, _ := req["namespace"].(string)
	pool, ok := pools[ns]
	if !ok {
		return deny("namespace '" + ns + "' is not a tenant's")
	}
	spec := obj(obj(req["object"])["spec"])
	if spec == nil {
		return deny("pod without spec")
	}
	if h, _ := spec["hostNetwork"].(bool); h {
		return deny("hostNetwork is not allowed")
	}
	var ops []op
	sel := obj(spec["nodeSelector"])
	switch {
	case sel == nil:
		ops = append(ops, op{"add", "/spec/nodeSelector", map[string]string{poolKey: pool}})
	case sel[poolKey] == nil:
		ops = append(ops, op{"add", "/spec/nodeSelector/kubetenant.io~1node-pool", pool})
	case sel[poolKey] != pool:
		return deny("pod selects another tenant's node pool")
	}
	tolerated := false
	tols, _ := spec["tolerations"].([]interface{})
	for _, t := range tols {
		if m := obj(t); m != nil && m["key"] == poolKey && m["value"] == pool {
			tolerated = true
		}
	}
	if !tolerated {
		tol := map[string]string{"key": poolKey, "operator": "Equal", "value": pool,
			"effect": "NoSchedule"}
		if tols == nil {
			ops = append(ops, op{"add", "/spec/tolerations", []interface{}{tol}})
		} else {
			ops = append(ops, op{"add", "/spec/tolerations/-", tol})
		}
	}
	if len(ops) == 0 {
		return out, nil
	}
	if !mutate {
		return deny("pod lacks the node pool selector or toleration the mutating webhook adds")
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	out.Response.PatchType = "JSONPatch"
	out.Response.Patch = patch // base64 by encoding/json
	return out, nil
}

func handler(mutate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := decide(body, mutate)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address (loopback)")
	cert := flag.String("cert", "", "TLS certificate (PEM)")
	key := flag.String("key", "", "TLS key (PEM)")
	n := flag.Int("tenants", 1000, "tenants, as scripts/gen-tenants.sh writes them")
	flag.Parse()
	npools := *n / 50
	if npools < 1 {
		npools = 1
	}
	pools = make(map[string]string, *n)
	for t := 1; t <= *n; t++ {
		pools[fmt.Sprintf("tenant-%04d", t)] = fmt.Sprintf("pool-%02d", t%npools+1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mutate", handler(true))
	mux.HandleFunc("/validate", handler(false))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	log.Fatal(http.ListenAndServeTLS(*addr, *cert, *key, mux))
}
