#!/usr/bin/env python3
"""Loopback endpoints for bench/exit.sh and bench/delivery.sh (run by hand, never by CI).

    python3 bench/loopback_server.py PORT_FILE LOG_DIR [LIFETIME_S]

Binds, on 127.0.0.1 only, with ports chosen by the kernel:

  ok      answers every POST with 200 at once
  slow    reads the whole body, waits 300 ms (SLOW_MS), then answers 200
  hole    a listener that never accepts: connections complete in the kernel's
          backlog and then nothing is ever read or answered

and writes "ok_port slow_port hole_port" on one line to PORT_FILE once all three
listen. Every request the ok and slow endpoints receive is logged to
LOG_DIR/<ok|slow>.jsonl in two lines: a "received" line as soon as the body is read
(before the slow endpoint's wait: the server has the events even when the client
gives up before the answer),

    {"kind": "received", "rid": ..., "t": unix time, "peer": client port,
     "bytes": n, "events": [event_id, ...]}

and an "answered" line once the answer was written, or failed to be (the client
hung up):

    {"kind": "answered", "rid": ..., "t": unix time, "ok": true|false}

The process stops by itself after LIFETIME_S (default 1800 s) and on SIGTERM.
"""

import http.server
import json
import os
import signal
import socket
import sys
import threading
import time

SLOW_MS = int(os.environ.get("SLOW_MS", "300"))


def make_handler(label, delay_s, log):
    lock = threading.Lock()

    def write(record):
        with lock:
            log.write(json.dumps(record) + "\n")
            log.flush()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("content-length", 0))
            body = self.rfile.read(n)
            try:
                events = json.loads(body)
                ids = [e.get("event_id") for e in events]
            except (ValueError, AttributeError, TypeError):
                ids = None
            rid = f"{time.time_ns()}-{threading.get_ident()}"
            write({"kind": "received", "rid": rid, "t": time.time(),
                   "peer": self.client_address[1], "bytes": n, "events": ids})
            if delay_s:
                time.sleep(delay_s)
            answered = True
            try:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                self.wfile.flush()
            except OSError:
                answered = False
            write({"kind": "answered", "rid": rid, "t": time.time(), "ok": answered})

        def log_message(self, *args):
            pass

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    port_file, log_dir = sys.argv[1], sys.argv[2]
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 1800.0
    os.makedirs(log_dir, exist_ok=True)
    servers = []
    for label, delay in (("ok", 0.0), ("slow", SLOW_MS / 1000.0)):
        log = open(os.path.join(log_dir, f"{label}.jsonl"), "a", encoding="utf-8")
        srv = Server(("127.0.0.1", 0), make_handler(label, delay, log))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(4096)  # never accepted
    ports = [s.server_address[1] for s in servers] + [hole.getsockname()[1]]
    tmp = port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(" ".join(map(str, ports)) + "\n")
    os.replace(tmp, port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait(lifetime)
    for srv in servers:
        srv.shutdown()
    hole.close()


if __name__ == "__main__":
    main()
