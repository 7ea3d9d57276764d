"""A JSON-RPC proxy on loopback in front of a real node, to give a client a node that behaves
differently at its public seam (its URL): here, one that refuses batch requests, as some
providers do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

#: What such providers answer to a batch.
NO_BATCHES = {"code": -32600, "message": "batch requests are disabled"}

#: What such providers answer to a batch.
NO_BATCHES = {"code": -32600, "message": "batch requests are disabled"}


@contextmanager
def node_without_batches(upstream: str) -> Iterator[tuple[str, list[int]]]:
    """A URL that forwards single requests to ``upstream`` and answers every batch with one
    JSON-RPC error; the list gets each refused batch's size."""
    refused: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if isinstance(json.loads(body), list):
                refused.append(len(json.loads(body)))
                reply = json.dumps({"jsonrpc": "2.0", "id": None, "error": NO_BATCHES}).encode()
            else:
                reply = requests.post(
                    upstream, data=body, headers={"Content-Type": "application/json"}, timeout=30
                ).content
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", refused
    finally:
        server.shutdown()
        server.server_close()
