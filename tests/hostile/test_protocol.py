"""Malformed HTTP: request lines, headers, lengths that lie, chunked
bodies, slow clients, pipelining, methods. Sent over a raw socket, byte
for byte.

Every answer must be the contract's JSON 4xx. On an instance's own port
(HOSTILE_VIA=direct) Kore answers some of these itself before the module
runs; those answers (an empty-bodied status, or a closed connection) are
accepted where docs/testing.md lists them for that case, and nothing else
is. Through nginx every case must be JSON.
"""

import pytest

import rawhttp
from conftest import VIA, exchange as ex, expect_json_error

R = rawhttp.request


def health_or_json_error(e, kore=()):
    """/health served normally, or refused with a JSON 4xx."""
    r = e.first
    if r is not None and r.status == 200 and r.json() == {"status": "ok"}:
        return
    expect_json_error(e, kore=kore)


def closed_without_answer(e):
    return e.first is None and e.ended in ("eof", "reset")


def refused_unread_body(e, kore):
    """Kore refuses a request whose body it did not read (411 for
    chunked) and closes at once: the TCP reset that closing with unread
    data sends may destroy the answer before the client reads it. On an
    instance's own port either is documented (docs/testing.md)."""
    if VIA == "direct" and closed_without_answer(e):
        return
    expect_json_error(e, kore=kore)


# ---- request lines ----------------------------------------------------------

MALFORMED_LINES = {
    "garbage": b"GARBAGE\r\n\r\n",
    "method only": b"GET\r\n\r\n",
    "no version, HTTP/1.1 headers": b"GET /health X\r\nHost: x\r\n\r\n",
    "tabs for spaces": b"GET\t/health\tHTTP/1.1\r\nHost: x\r\n\r\n",
    "NUL in the target": b"GET /\x00x HTTP/1.1\r\nHost: x\r\n\r\n",
    "control byte in the target": b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
    "space in the target": b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "1000-byte method": b"A" * 1000 + b" /health HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown method": b"FOO /users HTTP/1.1\r\nHost: x\r\n\r\n",
    "target without a slash": b"GET health HTTP/1.1\r\nHost: x\r\n\r\n",
    "asterisk target": b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    "LF only": b"GET /health HTTP/1.1\nHost: x\n\nGARBAGE\n\n",
}


@pytest.mark.parametrize("name", MALFORMED_LINES)
def test_malformed_request_line(name):
    data = MALFORMED_LINES[name]
    e = ex(data)
    if name == "LF only":
        # Bare LF line ends are tolerated by both servers (RFC 9112
        # allows it): /health is served; what follows is refused or
        # the connection closed.
        health_or_json_error(e, kore=(400,))
        return
    expect_json_error(e, kore=(400, 505))


def test_unsupported_http_version():
    """HTTP/9.9: 505 is the protocol's answer; it must still be JSON."""
    e = ex(b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n")
    r = e.first
    assert r is not None and r.status in (400, 505), str(e)
    if VIA == "direct" and r.status == 505 and r.body == b"":
        return          # Kore's own, documented
    assert (r.header("content-type") or "").startswith("application/json") \
        and isinstance(r.json(), dict) and r.json().get("status") == \
        r.status, str(e)


def test_http_09_request_gets_no_http_answer():
    """A bare "GET /path" (HTTP/0.9) has no status line to answer with:
    the connection is closed (nginx) or refused with 400 (Kore)."""
    e = ex(b"GET /health\r\n\r\n")
    if closed_without_answer(e):
        return
    expect_json_error(e, kore=(400,))


def test_lowercase_method():
    """Methods are case-sensitive: "get" is unknown (Kore accepts it)."""
    health_or_json_error(ex(R("get", "/health")))


def test_absolute_form_target():
    """"GET http://x/health": nginx serves it, an instance says 404."""
    e = ex(R("GET", "http://x/health"))
    if e.first is not None and e.first.status == 200:
        return
    expect_json_error(e, status=404)


@pytest.mark.parametrize("size", [1989, 1999, 3000, 100_000])
def test_long_request_target(size):
    """Targets near Kore's 2000-byte limit and far beyond it."""
    path = b"/health?" + b"a" * (size - 8)
    e = ex(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close"
           b"\r\n\r\n")
    r = e.first
    if size < 1990 and r is not None and r.status in (200, 400):
        # Short enough for both: served, or refused as an unknown
        # parameter (a JSON 400).
        if r.status == 200:
            return
    if VIA == "direct" and closed_without_answer(e):
        return          # Kore resets a request line beyond its buffer
    expect_json_error(e, kore=(414,))


# ---- headers ------------------------------------------------------------------

def test_header_without_colon():
    """nginx ignores an invalid header line (ignore_invalid_headers) and
    forwards only the headers the app reads: served or refused."""
    health_or_json_error(ex(b"GET /health HTTP/1.1\r\nHost: x\r\nFoo\r\n"
                            b"Connection: close\r\n\r\n"), kore=(400,))


def test_obsolete_line_folding():
    expect_json_error(ex(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n"
                         b"  b\r\nConnection: close\r\n\r\n"), kore=(400,))


def test_non_ascii_header_value():
    """A header the app does not read never leaves nginx; one it reads
    is dropped when not printable ASCII (nginx.conf): served or refused."""
    health_or_json_error(ex(R("GET", "/health", headers=[b"X-A: caf\xc3\xa9"])),
                         kore=(400,))


def test_nul_in_header_value():
    health_or_json_error(ex(R("GET", "/health", headers=[b"X-A: a\x00b"])),
                         kore=(400,))


def test_header_name_with_space():
    health_or_json_error(ex(R("GET", "/health", headers=[b"X A: b"])),
                         kore=(400,))


@pytest.mark.parametrize("size", [8 * 1024, 64 * 1024, 1024 * 1024])
def test_huge_header(size):
    e = ex(R("GET", "/health", headers=[b"X-Big: " + b"a" * size]))
    if VIA == "direct" and closed_without_answer(e):
        return          # beyond Kore's header buffer: reset, documented
    expect_json_error(e, kore=(400,))


@pytest.mark.parametrize("count", [30, 100, 1000])
def test_many_headers(count):
    hdrs = [b"X-H%d: v" % i for i in range(count)]
    e = ex(R("GET", "/health", headers=hdrs))
    if VIA == "direct" and closed_without_answer(e):
        return          # beyond Kore's header buffer: reset, documented
    health_or_json_error(e, kore=(400,))


def test_request_id_header_is_not_reflected_raw():
    """A hostile X-Request-Id (control bytes, 4 KB) is replaced."""
    e = ex(R("GET", "/health", headers=[b"X-Request-Id: a\x01b" + b"c" * 4000]))
    if e.first is not None and e.first.status == 200:
        rid = e.first.header("x-request-id") or ""
        assert "\x01" not in rid and len(rid) <= 128, str(e)
        return
    if VIA == "direct" and closed_without_answer(e):
        return
    expect_json_error(e, kore=(400,))


@pytest.mark.parametrize("host", [b"", b"h" * 300, None],
                         ids=["empty", "300 bytes", "missing"])
def test_bad_host(host):
    if host is None:
        data = b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"
    else:
        data = b"GET /health HTTP/1.1\r\nHost: " + host + \
            b"\r\nConnection: close\r\n\r\n"
    expect_json_error(ex(data), kore=(400,))


def test_two_host_headers():
    health_or_json_error(ex(b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                            b"Connection: close\r\n\r\n"))


# ---- bodies whose length lies ----------------------------------------------------

@pytest.mark.parametrize("value", [b"abc", b"-1", b"99999999999999999999",
                                   b"1e3", b"0x2"])
def test_invalid_content_length(value):
    e = ex(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: "
           b"application/json\r\nContent-Length: " + value +
           b"\r\nConnection: close\r\n\r\n{}")
    expect_json_error(e, kore=(411,))


def test_conflicting_content_lengths():
    expect_json_error(ex(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length:"
                         b" 2\r\nContent-Length: 5\r\nConnection: close"
                         b"\r\n\r\n{}"), kore=(411,))


def test_post_without_content_length():
    expect_json_error(ex(b"POST /users HTTP/1.1\r\nHost: x\r\nConnection: "
                         b"close\r\n\r\n"), kore=(411,))


def test_empty_body():
    expect_json_error(ex(R("POST", "/users", body=b"")), status=400)


def test_body_shorter_than_announced():
    """100 bytes announced, 10 sent, then the client stops sending: the
    request cannot complete; the connection is closed (docs/testing.md)."""
    e = ex(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
           b"Connection: close\r\n\r\n{\"a\":\"b\"", shut_write=True)
    if closed_without_answer(e):
        return
    expect_json_error(e)


def test_body_longer_than_announced():
    """2 bytes announced, more sent. nginx reads 2 and answers; Kore 4.1
    miscounts the rest and waits for a body that never comes (its body
    timeout ends it), documented."""
    e = ex(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: "
           b"application/json\r\nContent-Length: 2\r\n\r\n{}XXXXXXXX",
           want=1)
    if VIA == "direct" and e.first is None and e.ended == "silent":
        return
    expect_json_error(e, status=422)


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 16 * 1024 * 1024 + 1])
def test_body_too_large(size):
    e = ex(R("POST", "/users", body=b" " * size), idle=10)
    if closed_without_answer(e):
        pytest.fail(f"closed without the 413: {e}")
    expect_json_error(e, status=413, kore=(413,))


# ---- chunked ----------------------------------------------------------------------

CHUNKED = {
    "valid, not JSON": b"3\r\nabc\r\n0\r\n\r\n",
    "valid JSON, wrong fields": b"c\r\n{\"username\"\r\n4\r\n:12}\r\n0\r\n\r\n",
    "extension": b"2;ext=1\r\n{}\r\n0\r\n\r\n",
    "bad size": b"zz\r\nabc\r\n0\r\n\r\n",
    "size overflow": b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
    "negative size": b"-5\r\nabc\r\n0\r\n\r\n",
    "size larger than data": b"ff\r\nabc\r\n0\r\n\r\n",
    "trailer": b"2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n",
}


@pytest.mark.parametrize("name", CHUNKED)
def test_chunked_body(name):
    """nginx decodes chunked bodies (the app sees a Content-Length);
    Kore 4.1 refuses them with 411 (documented)."""
    # Only a body cut short ends with the client's half-close: nginx
    # takes a half-close as the client going away and answers nothing.
    e = ex(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
           b"json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           + CHUNKED[name], shut_write=name == "size larger than data")
    if name == "size larger than data" and closed_without_answer(e):
        return          # the client stopped mid-chunk: closed
    refused_unread_body(e, (411,))


@pytest.mark.parametrize("te", [b"chunked, gzip", b"gzip, chunked",
                                b"xchunked", b"chunked\r\nTransfer-Encoding: "
                                b"chunked"])
def test_odd_transfer_encodings(te):
    refused_unread_body(ex(b"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-"
                           b"Encoding: " + te + b"\r\nConnection: close\r\n"
                           b"\r\n0\r\n\r\n"), (411,))


def test_chunked_and_content_length():
    """The request-smuggling shape: nginx refuses it; Kore uses the
    Content-Length (5 bytes "0\\r\\n\\r\\n", not JSON)."""
    expect_json_error(ex(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length:"
                         b" 5\r\nTransfer-Encoding: chunked\r\nConnection: "
                         b"close\r\n\r\n0\r\n\r\n"), status=400)


# ---- slow clients --------------------------------------------------------------------

def test_headers_dripped():
    """One byte every 20 ms: slow but complete, so served."""
    e = ex(R("GET", "/health"), drip=0.02, idle=5)
    assert e.first is not None and e.first.status == 200, str(e)


def test_body_dripped():
    e = ex(R("POST", "/users", body='{"username":1,"email":2}'), drip=0.03,
           chunk=3, idle=5)
    expect_json_error(e, status=422)


@pytest.mark.slow
def test_headers_never_finished():
    """Slowloris: half a request, then silence. The server ends the
    connection after its header timeout (nginx 10 s; Kore 20 s,
    conf/shortener.conf, longer than nginx's read timeout), without
    answering or with an empty 408 (Kore), documented."""
    wait = 25 if VIA == "direct" else 15
    e = ex(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", idle=wait,
           deadline=wait + 5)
    assert e.ended in ("eof", "reset"), f"still open after {wait} s: {e}"
    assert e.first is None or (e.first.status == 408 and e.first.body in
                               (b"",)) or e.first.json() is not None, str(e)


@pytest.mark.slow
def test_body_never_finished():
    """Half a body, then silence. nginx ends it after its body timeout
    (10 s). Kore's own body timeout is 60 s: on an instance's port the
    case only checks that nothing was answered or broken meanwhile."""
    data = b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"u"
    if VIA == "direct":
        e = ex(data, idle=3)
        assert e.first is None and e.ended == "silent", str(e)
        return
    e = ex(data, idle=15, deadline=20)
    assert e.ended in ("eof", "reset"), f"still open after 15 s: {e}"
    assert e.first is None or e.first.json() is not None, str(e)


# ---- pipelining ------------------------------------------------------------------

def test_pipelined_requests():
    """Two requests in one packet: nginx answers both; Kore 4.1 answers
    the first and reads nothing more from the connection (documented)."""
    req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    e = ex(req + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"),
           idle=2)
    assert len(e.responses) >= 1 and e.responses[0].status == 200, str(e)
    if VIA != "direct":
        assert len(e.responses) == 2 and e.responses[1].status == 200, str(e)


def test_pipelined_garbage():
    """A valid request followed by garbage: the request is served; the
    garbage is refused in JSON (nginx), or never read (Kore, documented)."""
    e = ex(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nXYZ / HTTP/1.1\r\n\r\n"
           b"\x00\xff\r\n\r\n", idle=2)
    assert len(e.responses) >= 1 and e.responses[0].status == 200, str(e)
    if VIA == "direct":
        assert len(e.responses) == 1, str(e)
        return
    assert len(e.responses) >= 2, f"the garbage got no answer: {e}"
    rest = rawhttp.Exchange(responses=e.responses[1:], ended=e.ended)
    expect_json_error(rest)


def test_many_pipelined_requests():
    req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    e = ex(req * 49 + R("GET", "/health"), idle=3)
    want = 1 if VIA == "direct" else 50
    assert len(e.responses) == want and all(
        r.status == 200 for r in e.responses), str(e)


# ---- methods -----------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("DELETE", "/users"), ("PATCH", "/users/1"), ("POST", "/health"),
    ("PUT", "/events/1"), ("POST", "/metrics"),
])
def test_wrong_method(method, path):
    e = ex(R(method, path, body="{}" if method != "DELETE" else None))
    if path == "/metrics" and VIA == "nginx":
        expect_json_error(e, status=404)    # never on the public port
        return
    expect_json_error(e, status=405)
    assert e.first.header("allow"), f"no Allow header: {e}"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_unsupported_method(method):
    target = "x:443" if method == "CONNECT" else "/health"
    expect_json_error(ex(R(method, target)), kore=(400,))


def test_head_of_error_has_no_body():
    e = ex(R("HEAD", "/nosuchcode"), head=True)
    r = e.first
    assert r is not None and r.status == 404 and r.body == b"", str(e)
