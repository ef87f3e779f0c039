#!/usr/bin/env bash
# scripts/hostile-load.sh: kubetenant serve (one thread, as rendered) under
# the loads of a hostile pod, on 127.0.0.1 only (not part of make check;
# test/e2e/t4080-serve-hostile.bats is the small version).
#
#   1. one 1.5 MB review of 520k JSON values (empty objects: the costliest
#      value to decode)
#   2. eight of them at once
#   3. 60 uploads of 3 MiB at 64 KiB/s each
#   4. one review at the value limit (131k empty objects): the largest
#      decode the server accepts
#   5. (on a second server, with --timeout 60 so that nothing is cut while
#      it is set up) the worst case under the budget: bodies that stop one
#      byte short filling it, 11 of 3 MiB and 220 of 64 KiB, beside 780
#      idle TLS connections; the figure the rendered memory limit must
#      stay above
#
# Meanwhile a prober asks /healthz and posts the ~3.5 KB Pod review of
# bench/ every 0.2 s.  Prints each load's answers, RSS after it and the
# peak RSS.  Exit status 1 unless the peak is at most HOSTILE_MAX_MB (96)
# MB, /healthz always answered 200 and every well-formed review 200 within
# 1 s.  Bounded: every request has a --max-time; about a minute in all.
set -eu
cd "$(dirname "$0")/.."
KT=${KT:-build/kubetenant}
max_mb=${HOSTILE_MAX_MB:-96}
for t in curl jq python3; do
	command -v "$t" >/dev/null || { echo "hostile-load: '$t' is not installed" >&2; exit 1; }
done
. scripts/serve-lib.sh
tmp=$(mktemp -d)
KT_PID= probe_pid=
cleanup() {
	[ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null
	[ -n "$KT_PID" ] && kill "$KT_PID" 2>/dev/null && wait "$KT_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

serve_launch "$tmp" 1000 --threads 1 "$@"
ca=$tmp/certs/ca.pem url=https://127.0.0.1:$KT_PORT
jq -c '.request.object.spec.overhead = [range(520000) | {}]' bench/serve-review.json >"$tmp/wide.json"
jq -c '.request.object.spec.overhead = [range(130500) | {}]' bench/serve-review.json >"$tmp/limit.json"
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/3m.json"

post() { # file [curl args]: "code seconds" on stdout
	local f=$1
	shift
	curl -sS --cacert "$ca" -H 'Content-Type: application/json' -H 'Expect:' -o /dev/null \
		-w '%{http_code} %{time_total}\n' --data-binary @"$f" "$@" "$url/validate" 2>/dev/null ||
		true
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

phase() { echo "$1" >"$tmp/phase"; }
phase idle
# The prober keeps its connections, as the API server does: what it times is
# the server, not process start-up and handshakes on a busy machine.
probe() {
	python3 - "$KT_PORT" "$ca" bench/serve-review.json "$tmp/phase" <<'PY'
import http.client, ssl, sys, time
port, ca, review, phase = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read(), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
conns = {}
def ask(name, method, path, body, headers):
    t0 = time.monotonic()
    try:
        c = conns.get(name)
        if c is None:
            c = conns[name] = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=1)
        c.request(method, path, body, headers)
        r = c.getresponse()
        r.read()
        code = r.status
    except Exception:
        conns.pop(name, None)
        code = 0
    p = open(phase).read().strip()
    print(name, code, "%.3f" % (time.monotonic() - t0), p, flush=True)
while True:
    ask("healthz", "GET", "/healthz", None, {})
    ask("review", "POST", "/validate", review, {"Content-Type": "application/json"})
    time.sleep(0.2)
PY
}
probe >"$tmp/probe.log" 2>/dev/null &
probe_pid=$!

echo "hostile-load: pid $KT_PID, one thread, idle RSS $(mb "$(rss_kb "$KT_PID")") MB"
phase 1
echo "1. one review of $(wc -c <"$tmp/wide.json") bytes, 520k values: $(post "$tmp/wide.json" --max-time 10)"
echo "   RSS after: $(mb "$(rss_kb "$KT_PID")") MB"

phase 2
pids=()
for i in $(seq 8); do
	post "$tmp/wide.json" --max-time 10 >"$tmp/eight.$i" &
	pids+=($!)
done
wait "${pids[@]}"
echo "2. eight at once: $(cat "$tmp"/eight.* | sort | awk '{ printf "%s%s %.2fs", (NR > 1 ? ", " : ""), $1, $2 }')"
echo "   RSS after: $(mb "$(rss_kb "$KT_PID")") MB"

phase 3
pids=()
for i in $(seq 60); do
	post "$tmp/3m.json" --limit-rate 64k --max-time 30 >"$tmp/slow.$i" &
	pids+=($!)
done
sleep 3
echo "3. 60 slow 3 MiB uploads: RSS with them in flight $(mb "$(rss_kb "$KT_PID")") MB"
wait "${pids[@]}"
echo "   answers: $(cat "$tmp"/slow.* | awk '{ n[$1 == "000" ? "cut" : $1]++ } END { for (c in n) printf "%s x%d  ", c, n[c] }')"
echo "   RSS after: $(mb "$(rss_kb "$KT_PID")") MB"

phase 4
echo "4. one review at the value limit ($(wc -c <"$tmp/limit.json") bytes, 130.8k values): $(post "$tmp/limit.json" --max-time 10)"
sleep 1
echo "   RSS after: $(mb "$(rss_kb "$KT_PID")") MB"

kill "$probe_pid" 2>/dev/null
wait "$probe_pid" 2>/dev/null || true
probe_pid=
peak=$(rss_kb "$KT_PID" VmHWM)
curl -sS "http://127.0.0.1:$KT_MPORT/metrics" |
	awk '/^kubetenant_(memory_budget_exceeded|http_body_timeouts)/ { print "   " $0 }'
awk '
	$1 == "healthz" { h++; if ($2 != 200) hb++ }
	$1 == "review" { r++; if ($2 != 200 || $3 > 1) rb++; if ($3 > max) max = $3 }
	END { printf "prober: %d healthz (%d failed), %d reviews (%d not 200 within 1 s, slowest %.3f s)\n",
		h, hb, r, rb, max }' "$tmp/probe.log"
awk '$2 != 200 || $3 > 1 { print "   in load " $4 ": " $1 " " $2 " after " $3 " s" }' "$tmp/probe.log"
fail=0
echo "peak RSS: $(mb "$peak") MB (limit $max_mb MB)"
[ "$peak" -le $((max_mb * 1000 * 1000 / 1024)) ] || fail=1
awk '$1 == "healthz" && $2 != 200 { bad = 1 } $1 == "review" && ($2 != 200 || $3 > 1) { bad = 1 }
	END { exit bad }' "$tmp/probe.log" || fail=1

# 5: a second server; the first one's figures are final
kill "$KT_PID" 2>/dev/null && wait "$KT_PID" 2>/dev/null || true
serve_launch "$tmp" 1000 --threads 1 --timeout 60 "$@"
url=https://127.0.0.1:$KT_PORT
python3 - "$KT_PORT" "$tmp/certs/ca.pem" 11x3145728 220x65535 780x0 >"$tmp/stall.log" 2>&1 <<'PY' &
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
held, refused = [], 0
for count, size in (map(int, a.split("x")) for a in sys.argv[3:]):
    for _ in range(count):
        try:
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                server_hostname="localhost")
            if size:
                s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                          % size + b" " * (size - 1))
            held.append(s)
        except OSError:
            refused += 1
print("ready", len(held), "refused", refused, flush=True)
time.sleep(50)
PY
stall_pid=$!
for _ in $(seq 50); do grep -q ready "$tmp/stall.log" && break; sleep 1; done
sleep 1
echo "5. worst case under the budget: $(cat "$tmp/stall.log")," \
	"$(curl -sS "http://127.0.0.1:$KT_MPORT/metrics" | awk '$1 == "kubetenant_memory_budget_used_bytes" { printf "%.1f MB charged", $2 / 1e6 }')"
echo "   RSS $(mb "$(rss_kb "$KT_PID")") MB; a review meanwhile: $(post bench/serve-review.json --max-time 5)"
kill "$stall_pid" 2>/dev/null
wait "$stall_pid" 2>/dev/null || true
echo "hostile-load: $([ $fail -eq 0 ] && echo passed || echo FAILED)"
exit $fail
