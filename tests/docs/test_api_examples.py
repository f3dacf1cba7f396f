"""
Every request docs/api.md shows is run, in the order of the page, against
a fresh stack (tests/stack/test_stack.py runs this right after `up`, before
any other test writes), and what the page shows must be what comes back:

- a status line shown (`HTTP/1.1 201 Created`) is the status;
- a header shown is present; its value is compared where it does not
  depend on ids, times or which instance answered (content-type, allow,
  retry-after, cache-control, transfer-encoding, x-total-count-exact, an
  x-request-id the example chose); location and link
  are compared with their numbers masked and the page's base URL
  (http://127.0.0.1:8080) replaced by the stack's;
- a JSON body shown is compared field by field: an error entirely
  (error, code, status, fields), a resource on every field that is not an
  id, a time or a random code. A body the page shortens with `…` is only
  compared for its kind (object or array).

Commands run in one bash session, so a variable set by one example
(`U=$(curl ... | jq .id)`) serves the next: examples make what they use.
$B is the public port, $A an instance's own port.
"""

import json
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "api.md")
DOC_BASE = "http://127.0.0.1:8080"
EXACT_HEADERS = {"content-type", "allow", "retry-after", "cache-control",
                 "transfer-encoding", "x-total-count-exact"}
MASKED_HEADERS = {"location", "link"}
VOLATILE = {"id", "user_id", "url_id", "created_at", "updated_at",
            "timestamp", "short_code", "short_url", "last_click_at", "date"}
MARK = "__DOC_EXAMPLE_END__"


def examples():
    """(line, command, expected output lines) of every example, in order."""
    with open(DOC) as f:
        lines = f.read().split("\n")
    out, in_block, cmd, expect, start = [], False, None, [], 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```console"):
            in_block, cmd = True, None
        elif in_block and line.startswith("```"):
            if cmd is not None:
                out.append((start, cmd, expect))
            in_block, cmd = False, None
        elif in_block and line.startswith("$ "):
            if cmd is not None:
                out.append((start, cmd, expect))
            start, cmd, expect = i + 1, line[2:], []
            while cmd.endswith("\\"):
                i += 1
                cmd = cmd[:-1] + lines[i].strip()
        elif in_block and cmd is not None:
            expect.append(line)
        i += 1
    return out


class Shell:
    def __init__(self, env):
        self.p = subprocess.Popen(["bash", "--norc", "--noprofile"],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  env=env, cwd=env["DOC_WORKDIR"])

    def run(self, cmd):
        self.p.stdin.write(f"{cmd}\nprintf '\\n{MARK} %d\\n' $?\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            if line.startswith(MARK):
                return "".join(out), int(line.split()[1])
            out.append(line)
        raise AssertionError("the shell ended")

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def split_output(text):
    """(status or None, {header: value}, body text) of curl -si output."""
    lines = text.replace("\r", "").split("\n")
    status, headers, body = None, {}, []
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    # curl shows "100 Continue" before the answer to a large body.
    if i < len(lines) and re.match(r"HTTP/1\.[01] 1\d\d", lines[i]):
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[i]) if i < len(lines) else None
    if m:
        status = int(m.group(1))
        i += 1
        while i < len(lines) and lines[i].strip():
            name, _, value = lines[i].partition(":")
            headers[name.strip().lower()] = value.strip()
            i += 1
    body = "\n".join(lines[i:]).strip()
    return status, headers, body


def expected_parts(expect):
    """What the page shows: status, headers, body, in curl's layout."""
    status, headers, body = None, {}, []
    for line in expect:
        m = re.match(r"HTTP/1\.[01] (\d{3})", line)
        h = re.match(r"^([a-z][a-z0-9-]*): (.*)$", line)
        if m and status is None:
            status = int(m.group(1))
        elif h and not body:
            headers[h.group(1)] = h.group(2)
        elif line.strip():
            body.append(line)
    return status, headers, "\n".join(body).strip()


def mask(value, base):
    return re.sub(r"\d+", "N", value.replace(DOC_BASE, base))


def compare_json(want, got, where):
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: want an object, got {got!r}"
        if "code" in want and "status" in want:
            for k in ("error", "code", "status", "fields"):
                assert want.get(k) == got.get(k), \
                    f"{where}: {k}: shown {want.get(k)!r}, got {got.get(k)!r}"
            return
        for k, v in want.items():
            assert k in got, f"{where}: no {k!r} in {got!r}"
            if k not in VOLATILE:
                compare_json(v, got[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list), f"{where}: want an array, got {got!r}"
        assert len(want) == len(got), \
            f"{where}: {len(want)} elements shown, {len(got)} returned"
        for n, (w, g) in enumerate(zip(want, got)):
            compare_json(w, g, f"{where}[{n}]")
    else:
        assert want == got, f"{where}: shown {want!r}, got {got!r}"


def check(line, cmd, expect, out, base):
    where = f"docs/api.md:{line}: $ {cmd[:70]}"
    want_status, want_headers, want_body = expected_parts(expect)
    got_status, got_headers, got_body = split_output(out)
    if want_status is not None:
        assert got_status == want_status, \
            f"{where}: status {got_status}, the page shows {want_status}"
    for name, value in want_headers.items():
        assert name in got_headers, f"{where}: no {name} header: {out[:300]}"
        if name in EXACT_HEADERS or (name == "x-request-id" and
                                      not re.fullmatch(r"[0-9a-f]{32}", value)):
            assert got_headers[name] == value, \
                f"{where}: {name}: {got_headers[name]!r}, shown {value!r}"
        elif name in MASKED_HEADERS:
            assert mask(got_headers[name], base) == mask(value, base), \
                f"{where}: {name}: {got_headers[name]!r}, shown {value!r}"
    if not want_body or not want_body[0] in "[{":
        return
    try:
        want = json.loads(want_body)
    except ValueError:
        # Shortened with …: only the kind of value is compared.
        assert got_body[:1] == want_body[:1], \
            f"{where}: body {got_body[:120]!r}, shown {want_body[:120]!r}"
        json.loads(got_body)
        return
    try:
        got = json.loads(got_body)
    except ValueError:
        pytest.fail(f"{where}: the body is not JSON: {got_body[:300]!r}")
    compare_json(want, got, where)


def test_every_example_of_the_api_guide(tmp_path):
    base = os.environ.get("PUBLIC_URL")
    instance = os.environ.get("APP_URL")
    if not base or not instance:
        pytest.fail("PUBLIC_URL and APP_URL are not set: run through "
                    "tests/stack/test_stack.py")
    env = {**os.environ, "B": base, "A": instance,
           "DOC_WORKDIR": str(tmp_path)}
    shell = Shell(env)
    found = examples()
    assert len(found) > 50, f"only {len(found)} examples found"
    try:
        for line, cmd, expect in found:
            out, rc = shell.run(cmd)
            assert rc == 0, f"docs/api.md:{line}: exit {rc}: $ {cmd}\n{out}"
            check(line, cmd, expect, out, base)
    finally:
        shell.close()
    print(f"{len(found)} examples of docs/api.md run and matched")
