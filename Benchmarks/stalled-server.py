#!/usr/bin/env python3
"""A crippled Toxiproxy stand-in for checking that the benchmark survives a server that cannot finish.

    swift run -c release Benchmarks --quick --only admin,setup --compare-server Benchmarks/stalled-server.py

It takes `-host H -port P` like the reference and answers the admin API the benchmark uses (GET /version,
POST /proxies, toxic add and remove), but its proxies never proxy: each listens on 127.0.0.1:0 and
accepts connections, then neither reads nor writes. Every workload through it stalls, so each of its
cells must read "did not finish", while the run goes on and writes the table.
"""

import json
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

proxies = {}
held = []  # accepted connections, kept open and silent
lock = threading.Lock()


def silent_listener():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)

    def accept_forever():
        while True:
            connection, _ = listener.accept()
            with lock:
                held.append(connection)

    threading.Thread(target=accept_forever, daemon=True).start()
    return listener.getsockname()[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts == ["version"]:
            return self.reply(200, {"version": "stalled-stand-in"})
        if parts == ["proxies"]:
            return self.reply(200, proxies)
        if len(parts) == 2 and parts[0] == "proxies" and parts[1] in proxies:
            return self.reply(200, proxies[parts[1]])
        if len(parts) == 4 and parts[0] == "proxies" and parts[1] in proxies:
            for toxic in proxies[parts[1]]["toxics"]:
                if toxic["name"] == parts[3]:
                    return self.reply(200, toxic)
        return self.reply(404, {"error": "not found", "status": 404})

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        body = self.body()
        if parts == ["proxies"]:
            proxy = {"name": body["name"], "listen": f"127.0.0.1:{silent_listener()}",
                     "upstream": body["upstream"], "enabled": True, "toxics": []}
            proxies[proxy["name"]] = proxy
            return self.reply(201, proxy)
        if len(parts) == 3 and parts[0] == "proxies" and parts[1] in proxies and parts[2] == "toxics":
            toxic = {"name": body.get("name"), "type": body.get("type"), "stream": body.get("stream", "downstream"),
                     "toxicity": 1, "attributes": body.get("attributes") or {}}
            proxies[parts[1]]["toxics"].append(toxic)
            return self.reply(200, toxic)
        return self.reply(404, {"error": "not found", "status": 404})

    def do_DELETE(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "proxies" and parts[1] in proxies:
            toxics = proxies[parts[1]]["toxics"]
            for toxic in toxics:
                if toxic["name"] == parts[3]:
                    toxics.remove(toxic)
                    return self.reply(204)
        return self.reply(404, {"error": "not found", "status": 404})


def main():
    # The benchmark's children may inherit a blocked SIGTERM: unblock it, so its SIGTERM ends this at once.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    args = sys.argv[1:]
    host = args[args.index("-host") + 1] if "-host" in args else "127.0.0.1"
    port = int(args[args.index("-port") + 1]) if "-port" in args else 8474
    ThreadingHTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
