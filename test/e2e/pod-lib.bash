# pod-lib.bash: run a Deployment that `kubetenant render` emits the way the
# kubelet would, without a cluster (t1100, t1120).
#
# pod_layout RENDER_JSON DEPLOYMENT ROOT lays out under ROOT every file the
# pod's containers see: each volume (ConfigMap data from the rendered
# ConfigMap, Secrets of cert-manager Certificates as tls.crt, tls.key and
# ca.crt signed by a throw-away CA for the Certificate's dnsNames plus
# 127.0.0.1 and localhost) at its mountPath, and, when the pod automounts
# its token, the projected service-account volume (token, ca.crt,
# namespace).  It writes ROOT/argv: the first container's command (the
# image's entrypoint, kubetenant, when none is rendered) and args, one per
# line, exactly as rendered except that a path under a mount path gets ROOT
# in front of it.  ROOT/probe holds the readiness probe:
# "SCHEME PORT PATH", a named port resolved to its containerPort.

POD_SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount

# CA in $1/ca.{crt,key}, made once per directory.
pod_ca() {
	[ -f "$1/ca.crt" ] && return 0
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=kt-pod-test-ca -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$1/ca.key" -out "$1/ca.crt" 2>/dev/null
}

# The Secret a Certificate names, as cert-manager writes it: tls.crt, tls.key, ca.crt.
pod_tls_secret() { # render.json secret-name dir ca-dir
	local json=$1 secret=$2 dir=$3 ca=$4 san
	san=$(jq -r --arg s "$secret" '[.items[] | select(.kind == "Certificate" and
		.spec.secretName == $s) | .spec.dnsNames[]? | "DNS:" + .] | join(",")' "$json")
	san=${san:+$san,}IP:127.0.0.1,DNS:localhost
	mkdir -p "$dir"
	printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
		"$san" >"$dir/ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$secret" \
		-keyout "$dir/tls.key" -out "$dir/csr" 2>/dev/null
	openssl x509 -req -in "$dir/csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial \
		-days 2 -extfile "$dir/ext" -out "$dir/tls.crt" 2>/dev/null
	cp "$ca/ca.crt" "$dir/ca.crt"
	rm -f "$dir/ext" "$dir/csr"
}

# Copy the keys of a source ({configMap|secret: {name, items}}) into a volume dir.
pod_source() { # render.json source-json volume-dir root
	local json=$1 src=$2 vd=$3 root=$4 name kind from key path
	kind=$(jq -r 'if .configMap then "configMap" else "secret" end' <<<"$src")
	name=$(jq -r '.configMap.name // .secret.name // .secret.secretName' <<<"$src")
	from=$root/.src/$kind/$name
	if [ ! -d "$from" ]; then
		mkdir -p "$from"
		if [ "$kind" = configMap ]; then
			jq -e --arg n "$name" '.items[] | select(.kind == "ConfigMap" and
				.metadata.name == $n)' "$json" >/dev/null ||
				{ echo "pod_layout: ConfigMap $name is not rendered" >&2; return 1; }
			while read -r key; do
				jq -j --arg n "$name" --arg k "$key" '.items[] | select(.kind ==
					"ConfigMap" and .metadata.name == $n) | .data[$k]' "$json" \
					>"$from/$key"
			done < <(jq -r --arg n "$name" '.items[] | select(.kind == "ConfigMap" and
				.metadata.name == $n) | .data | keys[]' "$json")
		else
			jq -e --arg s "$name" '.items[] | select(.kind == "Certificate" and
				.spec.secretName == $s)' "$json" >/dev/null ||
				{ echo "pod_layout: no rendered Certificate makes Secret $name" >&2; return 1; }
			pod_tls_secret "$json" "$name" "$from" "$root/.ca"
		fi
	fi
	if jq -e '(.configMap // .secret).items' <<<"$src" >/dev/null; then
		while read -r key path; do
			mkdir -p "$(dirname "$vd/$path")"
			cp "$from/$key" "$vd/$path"
		done < <(jq -r '(.configMap // .secret).items[] | "\(.key) \(.path)"' <<<"$src")
	else
		cp "$from"/* "$vd"/
	fi
}

pod_layout() { # render.json deployment root
	local json=$1 name=$2 root=$3 pod vol vname src mp mps c port
	pod=$(jq -ce --arg n "$name" '.items[] | select(.kind == "Deployment" and
		.metadata.name == $n) | .spec.template.spec' "$json") ||
		{ echo "pod_layout: Deployment $name is not rendered" >&2; return 1; }
	mkdir -p "$root/.vol"
	pod_ca "$root/.ca"
	while read -r vol; do
		vname=$(jq -r .name <<<"$vol")
		mkdir -p "$root/.vol/$vname"
		while read -r src; do
			pod_source "$json" "$src" "$root/.vol/$vname" "$root" || return 1
		done < <(jq -c '(.projected.sources[]?), (select(.secret) | {secret}),
			(select(.configMap) | {configMap})' <<<"$vol")
	done < <(jq -c '.volumes[]?' <<<"$pod")
	c=$(jq -c '.containers[0]' <<<"$pod")
	mps=$(jq -c '[.volumeMounts[]?.mountPath]' <<<"$c")
	while read -r vname mp; do
		mkdir -p "$(dirname "$root$mp")"
		cp -r "$root/.vol/$vname" "$root$mp"
	done < <(jq -r '.volumeMounts[]? | "\(.name) \(.mountPath)"' <<<"$c")
	if [ "$(jq -r '.automountServiceAccountToken' <<<"$pod")" != false ]; then
		mkdir -p "$root$POD_SA_DIR"
		echo "pod-test-service-account-token" >"$root$POD_SA_DIR/token"
		cp "$root/.ca/ca.crt" "$root$POD_SA_DIR/ca.crt"
		echo kubetenant-system >"$root$POD_SA_DIR/namespace"
		mps=$(jq -c --arg sa "$POD_SA_DIR" '. + [$sa]' <<<"$mps")
	fi
	jq -r --arg root "$root" --argjson mps "$mps" --arg bin "${KT_BIN:-kubetenant}" '
		((.command // [$bin]) + (.args // []))[] | . as $a |
		if any($mps[]; . as $m | $a == $m or ($a | startswith($m + "/"))) then $root + $a else $a end' \
		<<<"$c" >"$root/argv"
	port=$(jq -r '.readinessProbe.httpGet.port as $p | if ($p | type) == "number" then $p
		else (.ports[] | select(.name == $p) | .containerPort) end' <<<"$c")
	jq -r --arg port "$port" '.readinessProbe.httpGet | "\(.scheme // "HTTP") \($port) \(.path)"' \
		<<<"$c" >"$root/probe"
}

# The names of the Deployments in a render.
pod_deployments() { jq -r '.items[] | select(.kind == "Deployment") | .metadata.name' "$1"; }

# Start ROOT/argv in the background and wait (up to 30 s) until the
# rendered readiness probe answers 200, the way the kubelet asks it (the
# certificate is verified too, against the Secret's CA).  Prints the
# probe's answer, stops the process by its pid and returns 0 when it
# became ready; else prints the process's output and returns 1.  Run it in
# a network namespace of its own (unshare -rn): the rendered ports are
# used as they are, as in the pod, and cannot collide with anything.
pod_start_and_probe() { # root
	local root=$1 scheme port path pid i rc=1 url
	read -r scheme port path <"$root/probe"
	mapfile -t argv <"$root/argv"
	"${argv[@]}" >"$root/pod.log" 2>&1 &
	pid=$!
	scheme=$(tr '[:upper:]' '[:lower:]' <<<"$scheme")
	url=$scheme://127.0.0.1:$port$path
	for i in $(seq 1 300); do
		if curl -sf --cacert "$root/.ca/ca.crt" -o "$root/probe.out" "$url"; then
			rc=0
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$rc" = 0 ]; then
		echo "ready: $url: $(cat "$root/probe.out")"
	else
		echo "not ready: $url" >&2
		cat "$root/pod.log" >&2
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return $rc
}
