#!/usr/bin/env bash
# The TAXII listener's bounds: a silent connection is closed after
# taxii_timeout, plain HTTP on the TLS port gets nothing, connections
# from one address stop at max_conn_per_addr (shared with the clients'
# listener) and come back once closed, an oversized header block or
# body is refused, and the hub serves on after all of it.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

start_hub "taxii_listen: 127.0.0.1:0
taxii_timeout: 2
taxii_max_content_length: 4096
max_conn_per_addr: 3"
wait_log "taxii.listen address=127\.0\.0\.1:[0-9]+"
TAXII_PORT=$(grep -o 'taxii.listen address=[^ ]*' "$HUB_LOG" | tail -n 1 |
    sed 's/.*://')

set +e
OUT=$(timeout 120 "$PY" - "$TAXII_PORT" "$PKI" <<'PY' 2>&1
import socket, ssl, sys, time
port, pki = int(sys.argv[1]), sys.argv[2]

def tls():
    ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
    ctx.load_cert_chain(pki + "/orgs/nisc.crt", pki + "/orgs/nisc.key")
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                           server_hostname="localhost")

def answer(c):
    data = b""
    c.settimeout(20)
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d:
            break
        data += d
    return data.split(b"\r\n", 1)[0].decode()

s = socket.create_connection(("127.0.0.1", port))
s.settimeout(20)
t = time.time()
d = s.recv(10)
print("silent: closed=%s within=%s" % (d == b"", time.time() - t < 10))
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(20)
s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    d = s.recv(100)
except OSError:
    d = b""
print("plain: http=%s" % d.startswith(b"HTTP"))
conns, refused = [], 0
for i in range(5):
    try:
        conns.append(tls())
    except (ssl.SSLError, OSError):
        refused += 1
print("limit: open=%d refused=%d" % (len(conns), refused))
for c in conns:
    c.close()
time.sleep(1)
c = tls()
c.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
print("again: %s" % answer(c))
c = tls()
c.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 20000 +
          b"\r\n\r\n")
print("header: %s" % answer(c))
c = tls()
c.sendall(b"POST /ceptoar/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000"
          b"\r\n\r\n" + b"{" * 8192)
print("body: %s" % answer(c))
c = tls()
c.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
print("after: %s" % answer(c))
PY
)
RC=$?
set -e
expect_eq "$RC" 0 "the probe ran ($OUT)"
expect_contains "$OUT" "silent: closed=True within=True" \
    "a silent connection is closed after taxii_timeout"
expect_contains "$OUT" "plain: http=False" "plain HTTP gets no answer"
expect_contains "$OUT" "limit: open=3 refused=2" "max_conn_per_addr holds"
expect_log "taxii.refused peer=127\.0\.0\.1:[0-9]+ reason=\"max_conn_per_addr 3"
expect_contains "$OUT" "again: HTTP/1.1 200" "a closed connection frees its place"
expect_contains "$OUT" "header: HTTP/1.1 400" "an oversized header is refused"
expect_contains "$OUT" "body: HTTP/1.1 413" "an oversized body is refused"
expect_contains "$OUT" "after: HTTP/1.1 200" "and the listener serves on"
kill -0 "$HUB_PID" || fail "the hub died"
pass "the TAXII listener's bounds hold"
