#!/usr/bin/env python3
"""The seed-style baseline: a Python dict behind http.server.

Loads a `<key> <value>` file into a dict (first occurrence of a key wins, as
in kvbench), then answers `GET /{key}` with 200 and the value or 404, over
HTTP/1.1 keep-alive, one thread per connection (ThreadingHTTPServer).
Prints `listening on http://HOST:PORT` once it accepts connections.

Usage: dict_server.py DATA_FILE [PORT]   (port 0, the default, picks a free one)
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes


def load(path):
    table = {}
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if line.endswith(b"\r"):
                line = line[:-1]
            for i, byte in enumerate(line):
                if byte in (0x20, 0x09):  # the first space or tab ends the key
                    if i > 0:
                        table.setdefault(line[:i], line[i + 1:])
                    break
    return table


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # http.server sends the headers and the body in two writes; with Nagle's
    # algorithm on, the body then waits for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    table = {}

    def do_GET(self):
        value = self.table.get(unquote_to_bytes(self.path[1:].split("?", 1)[0]))
        body = value if value is not None else b"not found\n"
        self.send_response(200 if value is not None else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # socketserver listens with a queue of 5 connections (`request_queue_size`,
    # "usually 5, but this can be overridden by subclasses": Python's socketserver
    # docs); 64 clients connecting at once overflow it and the dropped ones hang.
    request_queue_size = 1024


def main():
    Handler.table = load(sys.argv[1])
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
