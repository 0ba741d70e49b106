"""A faulty Secrets Manager: a loopback HTTP proxy in front of moto_server
that, at a set rate, answers in the ways a real service (or the network to
it) sometimes does.

Fault kinds, each chosen with equal chance when a request is to be faulted:

  http500     500 InternalFailure; the request never reaches moto
  throttle    400 ThrottlingException; the request never reaches moto
  drop        the connection is closed without an answer; never reaches moto
  drop_after  moto applies the request, then the connection is closed without
              an answer (the client cannot know it was applied)
  slow        moto applies it; the answer is held back `slow_s` seconds (longer
              than the client's --timeout, so the client times out)
  truncate    moto applies it; the answer's headers promise the whole body but
              only half of it is sent before the connection is closed

The choice is deterministic for a given seed and request order. `counts`
records what was injected, by kind, and `requests` how many were seen.
Only the proxy's own listener is on the network, on 127.0.0.1.
"""

import http.client
import random
import socket
import threading
import time

KINDS = ("http500", "throttle", "drop", "drop_after", "slow", "truncate")


class FaultProxy:
    def __init__(self, upstream_port, rate=0.3, seed=7, kinds=KINDS, slow_s=1.5):
        self.upstream_port = upstream_port
        self.rate = rate
        self.kinds = tuple(kinds)
        self.slow_s = slow_s
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {k: 0 for k in self.kinds}
        self.requests = 0
        self.enabled = True
        self.sock = None
        self.thread = None
        self.closing = False
        self.port = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.closing = True
        if self.sock:
            try:
                # wake accept()
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                pass
            self.sock.close()
        if self.thread:
            self.thread.join(timeout=5)

    def total_faults(self):
        return sum(self.counts.values())

    def _choose(self):
        with self.lock:
            self.requests += 1
            if not self.enabled or self.rng.random() >= self.rate:
                return None
            kind = self.rng.choice(self.kinds)
            self.counts[kind] += 1
            return kind

    # ----- the proxy --------------------------------------------------------
    def _accept_loop(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.closing:
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_request(f):
        """(request line, [(name, value)], body) or None at end of stream."""
        line = f.readline()
        if not line:
            return None
        headers = []
        while True:
            h = f.readline()
            if not h or h in (b"\r\n", b"\n"):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
        body = f.read(length) if length else b""
        return line.decode("latin-1").rstrip("\r\n"), headers, body

    @staticmethod
    def _response_bytes(status, reason, headers, body):
        out = [f"HTTP/1.1 {status} {reason}\r\n"]
        for name, value in headers:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            out.append(f"{name}: {value}\r\n")
        out.append(f"Content-Length: {len(body)}\r\n\r\n")
        return "".join(out).encode("latin-1") + body

    def _forward(self, request_line, headers, body):
        method, path, _ = request_line.split(" ", 2)
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            send = {n: v for n, v in headers if n.lower() not in ("connection",)}
            upstream.request(method, path, body=body, headers=send)
            r = upstream.getresponse()
            return r.status, r.reason, r.getheaders(), r.read()
        finally:
            upstream.close()

    @staticmethod
    def _error(status, reason, kind, message):
        body = ('{"__type":"%s","message":"%s"}' % (kind, message)).encode()
        return FaultProxy._response_bytes(status, reason, [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", kind),
            ("x-amzn-RequestId", "fault-proxy")], body)

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                req = self._read_request(f)
                if req is None:
                    return
                kind = self._choose()
                if kind == "http500":
                    conn.sendall(self._error(500, "Internal Server Error", "InternalFailure",
                                             "injected by the fault proxy"))
                    continue
                if kind == "throttle":
                    conn.sendall(self._error(400, "Bad Request", "ThrottlingException",
                                             "Rate exceeded"))
                    continue
                if kind == "drop":
                    return
                status, reason, headers, body = self._forward(*req)
                if kind == "drop_after":
                    return
                if kind == "slow":
                    time.sleep(self.slow_s)
                out = self._response_bytes(status, reason, headers, body)
                if kind == "truncate" and body:
                    # the headers promise the whole body; half of it comes
                    conn.sendall(out[:len(out) - len(body) + len(body) // 2])
                    return
                conn.sendall(out)
        except OSError:
            return
        finally:
            f.close()
            conn.close()
