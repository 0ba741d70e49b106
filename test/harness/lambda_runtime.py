"""A loopback stand-in for the AWS Lambda Runtime API (2018-06-01).

Tests queue events with invoke(); the function under test fetches them from
GET /runtime/invocation/next and answers on /response or /error; the
stand-in records every answer, and /runtime/init/error, for the test to read.
"""

import http.server
import json
import queue
import select
import socket
import sys
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime"


class QuietServer(http.server.ThreadingHTTPServer):
    """A runtime that was killed mid-poll is expected: no traceback for it."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            super().handle_error(request, client_address)


class RuntimeAPI:
    def __init__(self, deadline_ms=30000):
        self.events = queue.Queue()
        self.results = {}            # request id -> ("response"|"error", body, headers)
        self.init_errors = []
        self.polls = []              # time.monotonic() of each GET .../next
        self.served_at = {}          # request id -> when its event was sent
        self.answered_at = {}        # request id -> when its answer arrived
        self.deadline_ms = deadline_ms
        self.cond = threading.Condition()
        self.server = None
        self.thread = None

    @property
    def address(self):
        """The value of AWS_LAMBDA_RUNTIME_API."""
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without TCP_NODELAY
            # the body waits ~40 ms for the client's delayed ACK
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _peer_gone(self):
                """Has the function closed its end of this connection?"""
                ready, _, _ = select.select([self.connection], [], [], 0)
                if not ready:
                    return False
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self._reply(404)
                api.polls.append(time.monotonic())
                while True:
                    try:
                        request_id, event, trace = api.events.get(timeout=0.2)
                    except queue.Empty:
                        if getattr(api.server, "closing", False):
                            return self._reply(500)
                        continue
                    if self._peer_gone():
                        # a stopped function's poll must not take the event
                        # meant for the next one (writing to its closed
                        # socket would not fail at once)
                        api.events.put((request_id, event, trace))
                        return
                    break
                body = json.dumps(event).encode()
                api.served_at[request_id] = time.monotonic()
                self._reply(200, body, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + api.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:pg_rotate",
                    "Lambda-Runtime-Trace-Id": trace,
                    "Content-Type": "application/json"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                headers = dict(self.headers)
                if self.path == PREFIX + "/init/error":
                    with api.cond:
                        api.init_errors.append((body, headers))
                        api.cond.notify_all()
                    return self._reply(202, b'{"status":"OK"}')
                parts = self.path[len(PREFIX):].split("/")
                # /invocation/<id>/response|error
                if len(parts) == 4 and parts[1] == "invocation" and parts[3] in ("response", "error"):
                    with api.cond:
                        api.results[parts[2]] = (parts[3], body, headers)
                        api.answered_at[parts[2]] = time.monotonic()
                        api.cond.notify_all()
                    return self._reply(202, b'{"status":"OK"}')
                return self._reply(404)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.closing = True
            self.server.shutdown()
            self.server.server_close()

    def invoke(self, event, trace="Root=1-5f84c3b5-0123456789abcdef01234567"):
        """Queue one invocation; returns its request id."""
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event, trace))
        return request_id

    def wait_result(self, request_id, timeout=60):
        """("response"|"error", parsed body, headers) for the invocation."""
        with self.cond:
            ok = self.cond.wait_for(lambda: request_id in self.results, timeout=timeout)
        if not ok:
            raise TimeoutError(f"no answer for invocation {request_id}")
        kind, body, headers = self.results[request_id]
        return kind, json.loads(body) if body else None, headers

    def wait_init_error(self, timeout=30):
        with self.cond:
            ok = self.cond.wait_for(lambda: self.init_errors, timeout=timeout)
        if not ok:
            raise TimeoutError("no init error was posted")
        body, headers = self.init_errors[0]
        return json.loads(body), headers
