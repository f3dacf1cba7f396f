"""
The web app in a real browser (headless Chromium), against a running
stack: tests/stack/test_stack.py runs these after the public-port tests, with

    PUBLIC_URL       nginx, the base URL the app is served from
    SCREENSHOT_DIR   where each test's screenshots go (default
                     .build/test-logs/browser)

A local HTTP server stands in for the sites links point to, so that
following a link stays on this machine.
"""

import http.server
import os
import socket
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "public"))
sys.path.insert(0, HERE)

import http_util  # noqa: E402
from browser import LANDING_HOST, Browser  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))


def _need(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through tests/stack/test_stack.py")
    return value


@pytest.fixture(scope="session")
def base_url():
    return _need("PUBLIC_URL").rstrip("/")


@pytest.fixture(scope="session")
def public(base_url):
    return http_util.Client(base_url)


@pytest.fixture(scope="session")
def shots():
    d = os.environ.get("SCREENSHOT_DIR") or os.path.join(
        REPO, ".build", "test-logs", "browser")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def browser():
    b = Browser()
    yield b
    b.quit()


class Landing(http.server.BaseHTTPRequestHandler):
    """The destination of the test's links: a page naming its path."""

    def do_GET(self):
        body = (f"<!doctype html><title>Landing {self.path}</title>"
                f"<h1 id=landing>{self.path}</h1>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def landing():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Landing)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    # A name only the test's browser resolves (LANDING_HOST): the
    # service refuses links to 127.0.0.1.
    yield f"http://{LANDING_HOST}:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def owner(public):
    r = public.post("/users", {"username": http_util.uniq("web"),
                               "email": http_util.uniq("web") +
                               "@example.com"})
    assert r.status == 201, r
    return r.json()
