#!/usr/bin/env python3
"""tls_server.py - an HTTPS endpoint with a self-signed certificate, for
test_run_tls.sh.

    tls_server.py CERT KEY PORT_FILE LOG

Listens on a free loopback port and writes it to PORT_FILE. For every
connection it appends one line to LOG: "request METHOD PATH" when a request
arrives (answered 204, and the connection closed), else "handshake-failed"
or "no-request" with the reason. A client that does not trust the
certificate never sends a request.
"""
import os
import socket
import ssl
import sys

cert, key, port_file, log_path = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
# Renamed into place, so the test never reads a half-written port.
os.rename(port_file + ".tmp", port_file)


def record(line):
    with open(log_path, "a") as f:
        f.write(line + "\n")


while True:
    conn, _ = srv.accept()
    conn.settimeout(10)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        record("handshake-failed %s" % (getattr(e, "reason", None) or type(e).__name__))
        conn.close()
        continue
    try:
        head = tls.recv(65536).decode("latin-1")
        if head:
            method, path = (head.split(" ") + ["", ""])[:2]
            record("request %s %s" % (method, path))
            tls.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        else:
            record("no-request")
    except (ssl.SSLError, OSError) as e:
        # A TLS 1.3 client checks the certificate after the server's side
        # of the handshake is done: its refusal arrives here.
        record("no-request %s" % (getattr(e, "reason", None) or type(e).__name__))
    finally:
        tls.close()
