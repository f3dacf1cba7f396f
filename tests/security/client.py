"""
A small HTTP client for the security tests: one keep-alive connection per
client, JSON in and out, and the one check every answer must pass: an
error is the contract's JSON.
"""

import http.client
import itertools
import json
import os
import socket
import time
import urllib.parse

_seq = itertools.count()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def address():
    """A client address of its own (198.18.0.0/15, benchmarking), sent as
    X-Forwarded-For through a trusted proxy: a rate limit bucket of its
    own for each test that sends no key."""
    n = next(_seq) + os.getpid() * 7919
    return f"198.{18 + (n >> 16) % 2}.{(n >> 8) % 256}.{n % 256}"


def uniq(prefix):
    return f"{prefix}{os.getpid()}x{int(time.time() * 1000) % 10**9}x{next(_seq)}"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {}
        for k, v in headers:
            self.headers.setdefault(k.lower(), v)
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=30):
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
                resp = Response(r.status, r.getheaders(), data)
                if r.will_close:
                    self.close()
                # Kore's unprompted 408 on a connection idle for its
                # header timeout, read as the answer to the next request.
                if resp.status == 408 and not resp.header("x-request-id") \
                        and attempt == 0:
                    self.close()
                    continue
                check(resp)
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def check(resp):
    """Errors the app makes are the contract's JSON, with a request id."""
    assert resp.header("x-request-id"), resp
    if resp.status >= 400 and resp.body:
        body = resp.json()
        assert body["status"] == resp.status, resp
        assert isinstance(body["error"], str) and body["code"], resp
        assert resp.header("content-type").startswith("application/json")
