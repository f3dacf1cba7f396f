"""
A small HTTP client for the public-port tests: keep-alive connections per
thread, raw sockets for what http.client will not send, and the checks
every answer must pass (an error is the contract's JSON, never HTML).
"""

import json
import socket
import subprocess
import threading
import time
import urllib.parse
import http.client


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class Client:
    """One base URL; a keep-alive connection per thread."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        self.host, self.port = u.hostname, u.port or 80
        self._local = threading.local()

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self._local.conn = c
        return c

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                resp = Response(r.status, r.getheaders(), data)
                if r.will_close:
                    self.close()
                # Kore answers a kept-alive connection that stayed idle
                # past its header timeout with an unprompted, empty 408:
                # the request was never read, send it again on a new one.
                if resp.status == 408 and not data and attempt == 0:
                    self.close()
                    continue
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
        self._local.conn = None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def raw(self, data, timeout=10):
        """Bytes on a fresh connection; the whole answer until close."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                chunks.append(d)
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        return parse_raw(b"".join(chunks))


def parse_raw(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers.append((k.decode(), v.strip().decode(errors="replace")))
    resp = Response(status, headers, body)
    if (resp.header("transfer-encoding") or "").lower() == "chunked":
        resp.body = dechunk(body)
    return resp


def dechunk(body):
    out, rest = [], body
    while rest:
        size, _, rest = rest.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out.append(rest[:n])
        rest = rest[n + 2:]
    return b"".join(out)


def expect_json_error(resp, status, what=""):
    """The contract's error shape, JSON, never HTML, of this status."""
    assert resp.status == status, f"{what}: want {status}, got {resp!r}"
    ctype = resp.header("content-type") or ""
    assert "json" in ctype, f"{what}: Content-Type {ctype!r}: {resp!r}"
    doc = json.loads(resp.body)
    assert doc["status"] == status, f"{what}: {doc}"
    assert isinstance(doc["error"], str) and doc["error"], f"{what}: {doc}"
    assert isinstance(doc["code"], str) and doc["code"], f"{what}: {doc}"
    return doc


def psql(database_url, sql, *args):
    """One statement through psql; its single value, or None."""
    cmd = ["psql", database_url, "-X", "-q", "-t", "-A",
           "-v", "ON_ERROR_STOP=1"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", f"p{i}={a}"]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                         check=True).stdout.strip()
    return out or None


def uniq(prefix):
    return f"{prefix}-{int(time.time() * 1e6)}"
