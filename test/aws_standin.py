"""Loopback stand-in HTTP servers for the Secrets Manager client tests.

StandIn runs a ThreadingHTTPServer on 127.0.0.1 in a background thread and
hands every request to a handler function(request) -> (status, headers, body),
recording each request (method, path, headers, body, arrival time) so tests
can count attempts and measure the gaps between them.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.time = time.monotonic()

    def json(self):
        return json.loads(self.body or b"{}")


class StandIn:
    def __init__(self, handler):
        self.handler = handler
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without TCP_NODELAY
            # the body waits ~40 ms for the client's delayed ACK
            disable_nagle_algorithm = True

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, self.path, dict(self.headers.items()), body)
                outer.requests.append(req)
                status, headers, payload = outer.handler(req)
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload)
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def sm_ok(body=None):
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, body or {}


def sm_error(status, code, message="stand-in error"):
    return (status, {"Content-Type": "application/x-amz-json-1.1", "X-Amzn-Errortype": code},
            {"__type": code, "message": message})
