"""HTTP/1.1 over a raw socket, for requests no client library would send.

exchange() sends bytes exactly as given (optionally dripped, optionally
half-closing the connection afterwards) and reads back every response the
server writes until it closes, resets, or stays silent for `idle` seconds.
Responses are parsed leniently: a status line, headers, a body of
Content-Length bytes (or up to the close when there is none).
"""

import json
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    reason: str
    headers: list
    body: bytes

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def __str__(self):
        ctype = self.header("content-type") or "-"
        body = self.body[:160]
        return f"{self.status} {self.reason} [{ctype}] {body!r}"


@dataclass
class Exchange:
    responses: list = field(default_factory=list)
    ended: str = ""          # "eof", "reset", "silent" (idle timeout)
    elapsed: float = 0.0
    raw: bytes = b""

    @property
    def first(self):
        return self.responses[0] if self.responses else None

    def __str__(self):
        rs = "; ".join(str(r) for r in self.responses) or "no response"
        return f"{rs} (then {self.ended} after {self.elapsed:.1f} s)"


def _parse(buf, is_head=False):
    """Responses in buf, and the bytes of an incomplete one left over
    (head: answers to HEAD, which have no body whatever they announce)."""
    out = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        head = buf[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return out, buf      # not HTTP: left as is
        headers = []
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        length = None
        for k, v in headers:
            if k.lower() == "content-length":
                try:
                    length = int(v)
                except ValueError:
                    length = None
        rest = buf[end + 4:]
        if is_head:
            length = 0
        if length is None:
            return out, buf      # body runs to the close: parsed at the end
        if len(rest) < length:
            return out, buf
        out.append(Response(status, parts[2] if len(parts) > 2 else "",
                            headers, rest[:length]))
        buf = rest[length:]


def exchange(port, data, *, host="127.0.0.1", drip=None, chunk=1,
             shut_write=False, idle=3.0, deadline=30.0, want=None,
             head=False):
    """Send data to host:port and collect the answers.

    drip: seconds between chunks of `chunk` bytes (a slow client);
    shut_write: half-close after sending (the client is done);
    idle: stop reading after this many seconds without a byte;
    want: stop as soon as this many responses arrived;
    head: the request is a HEAD (answers carry no body).
    """
    t0 = time.monotonic()
    ex = Exchange()
    s = socket.create_connection((host, port), timeout=idle)
    try:
        try:
            if drip is None:
                s.sendall(data)
            else:
                for i in range(0, len(data), chunk):
                    s.sendall(data[i:i + chunk])
                    time.sleep(drip)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass                 # the server gave up on us: read what it said
        buf = b""
        while time.monotonic() - t0 < deadline:
            try:
                got = s.recv(65536)
            except socket.timeout:
                ex.ended = "silent"
                break
            except ConnectionResetError:
                ex.ended = "reset"
                break
            if not got:
                ex.ended = "eof"
                break
            ex.raw += got
            buf += got
            done, buf = _parse(buf, head)
            ex.responses.extend(done)
            if want is not None and len(ex.responses) >= want:
                ex.ended = "enough"
                break
        else:
            ex.ended = "deadline"
        if ex.ended in ("eof", "reset") and buf:
            # A last response without Content-Length: body up to the close.
            end = buf.find(b"\r\n\r\n")
            if end >= 0 and buf.startswith(b"HTTP/"):
                head = buf[:end].decode("latin-1").split("\r\n")
                parts = head[0].split(" ", 2)
                headers = [tuple(x.strip() for x in l.partition(":")[::2])
                           for l in head[1:]]
                try:
                    ex.responses.append(Response(
                        int(parts[1]), parts[2] if len(parts) > 2 else "",
                        headers, buf[end + 4:]))
                except (IndexError, ValueError):
                    pass
    finally:
        s.close()
    ex.elapsed = time.monotonic() - t0
    return ex


def request(method, path, *, body=None, headers=(), version="HTTP/1.1",
            host="x", close=True, content_type="application/json"):
    """The bytes of one well-formed request (path and body as given)."""
    if isinstance(path, str):
        path = path.encode("latin-1")
    lines = [method.encode() + b" " + path + b" " + version.encode()]
    if host is not None:
        lines.append(b"Host: " + host.encode())
    for h in headers:
        lines.append(h if isinstance(h, bytes) else h.encode("latin-1"))
    if body is not None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type:
            lines.append(b"Content-Type: " + content_type.encode())
        lines.append(b"Content-Length: %d" % len(body))
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
