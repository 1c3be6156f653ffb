#!/usr/bin/env bash
# test_run_proxy.sh - the proxy variables of the environment still decide
# the route, as libcurl defines them: crisisrun tells libcurl "no proxy"
# only when none is set (so that it stops looking them up every request).
# With http_proxy set, requests go through the proxy (an absolute URI in
# the request line); with the endpoint's host in no_proxy, or with none
# set, they go straight to the endpoint.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

start_inbox

# A stand-in proxy: records each request line and its User-Agent lines,
# answers 204.
PROXY_LOG=$TMP/proxy.log
: >"$PROXY_LOG"
python3 - "$PROXY_LOG" >"$TMP/proxy.out" 2>"$TMP/proxy.err" <<'PY' &
import http.server, sys
log = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "a") as f:
            f.write("%s | %s\n" % (self.requestline, self.headers.get_all("User-Agent")))
        self.send_response(204)
        self.end_headers()
    def do_CONNECT(self):
        with open(log, "a") as f:
            f.write("%s | %s\n" % (self.requestline, self.headers.get_all("User-Agent")))
        self.send_response(502)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
PROXY_PID=$!
_CR_PIDS+=("$PROXY_PID")
wait_for "[[ -s '$TMP/proxy.out' ]]" 10
PROXY_URL=http://127.0.0.1:$(head -n 1 "$TMP/proxy.out")

cat >"$TMP/proxy.yaml" <<EOF
crisisrun: 1
name: proxy
channels:
  status-page: {type: webhook, url: "\${env:INBOX_URL}/webhook/status-page"}
steps:
  - {id: declare, at: 0s, status: resolved, notify: [status-page], message: "Declared"}
EOF

# No proxy variable: straight to the endpoint.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
run_pb direct --quiet "$TMP/proxy.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/direct.err" >&2; fail "direct run exited $RUN_RC"; }
assert_eq "$(inbox_count /webhook/status-page)" 1 "requests at the endpoint without a proxy"
assert_eq "$(wc -l <"$PROXY_LOG")" 0 "requests at the proxy without http_proxy"

# http_proxy: through the proxy, which sees the endpoint's absolute URI.
http_proxy=$PROXY_URL run_pb proxied --quiet "$TMP/proxy.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/proxied.err" >&2; fail "proxied run exited $RUN_RC"; }
assert_eq "$(inbox_count /webhook/status-page)" 1 "requests at the endpoint through the proxy"
assert_eq "$(cat "$PROXY_LOG")" \
    "POST $INBOX_URL/webhook/status-page HTTP/1.1 | ['crisisrun/$("$CRISISRUN" --version | awk '{print $2}')']" \
    "request line and User-Agent at the proxy"

# The endpoint's host in no_proxy: straight to it again.
http_proxy=$PROXY_URL no_proxy=127.0.0.1 run_pb excluded --quiet "$TMP/proxy.yaml"
[[ $RUN_RC == 0 ]] || { cat "$TMP/excluded.err" >&2; fail "no_proxy run exited $RUN_RC"; }
assert_eq "$(inbox_count /webhook/status-page)" 2 "requests at the endpoint with no_proxy"
assert_eq "$(wc -l <"$PROXY_LOG")" 1 "requests at the proxy with no_proxy"

# https_proxy: an https endpoint is reached through a CONNECT, which
# carries crisisrun's User-Agent too (this proxy refuses the tunnel).
cat >"$TMP/tunnel.yaml" <<EOF
crisisrun: 1
name: tunnel
channels:
  partner: {type: webhook, url: "https://127.0.0.1:9/hook", retry: {attempts: 1}}
steps:
  - {id: declare, at: 0s, status: resolved, notify: [partner], message: "Declared"}
EOF
: >"$PROXY_LOG"
https_proxy=$PROXY_URL run_pb tunnel --quiet "$TMP/tunnel.yaml"
[[ $RUN_RC == 1 ]] || { cat "$TMP/tunnel.err" >&2; fail "tunnel run exited $RUN_RC, expected 1"; }
assert_eq "$(cat "$PROXY_LOG")" \
    "CONNECT 127.0.0.1:9 HTTP/1.1 | ['crisisrun/$("$CRISISRUN" --version | awk '{print $2}')']" \
    "CONNECT and its User-Agent at the proxy"

echo "ok: proxy variables route requests as libcurl defines them"
