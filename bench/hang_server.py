#!/usr/bin/env python3
"""hang_server.py - an HTTP endpoint that never answers, for bench/run.sh.

Listens on 127.0.0.1 (an ephemeral port unless --port), prints the port on
stdout, accepts every connection, reads whatever arrives and never writes a
byte: the receiver that hangs.  Exits by itself after --seconds (default 60)
so a bench that dies cannot leave it behind, and closes every connection then.

    python3 bench/hang_server.py [--port N] [--seconds S]
"""
import argparse
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(1024)
    ls.setblocking(False)
    print(ls.getsockname()[1], flush=True)

    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    held = []
    end = time.monotonic() + args.seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            if key.fileobj is ls:
                try:
                    conn, _ = ls.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
                held.append(conn)
            else:
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:  # the client gave up: forget it
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    held.remove(key.fileobj)
    for c in held:
        c.close()
    ls.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
