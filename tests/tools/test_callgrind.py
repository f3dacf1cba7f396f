"""scripts/callgrind.py's reading of callgrind dumps, which `make bench`
(phase 5) turns into instructions per request and the HIT path's top
functions: on a hand-written dump that uses callgrind's name compression,
a call in progress when the counters were zeroed (calls=0) and a summary
that differs from the sum of the cost lines, as real dumps do; and the
fixed client's reading of keep-alive responses."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import callgrind  # noqa: E402

# main -> loop (in progress at the zeroing: calls=0) -> handle (twice) ->
# fmt in libc; loop also calls fmt itself once; a second object's static
# function has handle's name.
DUMP = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 42
cmd:  kore -f -n -r -c x.conf
part: 1

desc: Trigger: dump

positions: line
events: Ir
summary: 1925

ob=(1) /usr/bin/kore
fl=(1) ???
fn=(1) main
cfn=(2) loop
calls=0 0
0 1860

fn=(2)
0 100
cfn=(3) handle
calls=2 0
0 1500
cob=(2) /usr/lib/x86_64-linux-gnu/libc.so.6
cfi=(2) ./stdio-common/vfprintf-internal.c
cfn=(4) fmt
calls=1 0
0 200
+3 60

fn=(3)
0 1000
cob=(2)
cfi=(2)
cfn=(4)
calls=2 0
0 500

ob=(2)
fl=(2)
fn=(4)
0 600
fi=(3) ./libio/genops.c
+2 100

ob=(3) /srv/shortener.so
fl=(4) src/x.c
fn=(5) handle
0 40
0 30

totals: 1930
"""


def test_summary_is_the_windows_total():
    assert callgrind.summary_ir(DUMP) == 1925


def test_totals_when_there_is_no_summary():
    assert callgrind.summary_ir(DUMP.replace("summary: 1925\n", "")) == 1930


def test_ir_is_found_among_several_events():
    text = DUMP.replace("events: Ir", "events: Dr Ir").replace(
        "summary: 1925", "summary: 7 1925")
    assert callgrind.summary_ir(text) == 1925


@pytest.mark.parametrize("text, why", [
    ("version: 1\nsummary: 5\n", "events"),
    ("events: Dr\nsummary: 5\n", "Ir"),
    ("events: Ir\n", "summary"),
])
def test_a_file_that_is_not_a_dump_is_refused(text, why):
    with pytest.raises(callgrind.Error, match=why):
        callgrind.summary_ir(text)


def test_self_and_inclusive_per_function():
    f = callgrind.functions(DUMP)
    assert f["main [kore]"] == (0, 1860)
    # loop's own 100 + 60; its calls (1500 + 200) count as inclusive only.
    assert f["loop [kore]"] == (160, 1860)
    assert f["handle [kore]"] == (1000, 1500)
    # Names are per object: the module's handle is another function.
    assert f["handle [shortener.so]"] == (70, 70)
    # A function's cost in an inlined file (fi=) stays the function's.
    assert f["fmt [libc.so.6]"] == (700, 700)


def test_self_costs_add_up_to_the_totals_line():
    f = callgrind.functions(DUMP)
    assert sum(s for s, _ in f.values()) == 1930


def test_a_name_used_before_it_is_defined_is_refused():
    with pytest.raises(callgrind.Error, match="before it was named"):
        callgrind.functions("events: Ir\nfn=(9)\n0 5\n")


def test_top_by_self_and_inclusive_without_the_enclosing_frames():
    f = callgrind.functions(DUMP)
    assert callgrind.top(f, 2) == [(1000, "handle [kore]"),
                                   (700, "fmt [libc.so.6]")]
    assert callgrind.top(f, 3, inclusive=True, below=1860) == [
        (1500, "handle [kore]"), (700, "fmt [libc.so.6]"),
        (70, "handle [shortener.so]")]
    assert callgrind.top(f, 1, inclusive=True) == [(1860, "loop [kore]")]


def test_inclusive_costs_agree_with_callgrind_annotate(tmp_path):
    if shutil.which("callgrind_annotate") is None:
        pytest.skip("callgrind_annotate (Debian's valgrind) is not installed")
    dump = tmp_path / "cg.out"
    dump.write_text(DUMP)
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                          "--threshold=100", "--auto=no", str(dump)],
                         capture_output=True, text=True, check=True).stdout
    theirs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].replace(",", "").isdigit() \
                and parts[-1].startswith("["):
            fn = parts[-2].rsplit(":", 1)[1]
            obj = Path(parts[-1].strip("[]")).name
            key = f"{fn} [{obj}]"
            theirs[key] = theirs.get(key, 0) + int(parts[0].replace(",", ""))
    ours = {k: v[1] for k, v in callgrind.functions(DUMP).items()}
    assert theirs == ours


def test_the_client_reads_responses_back_to_back():
    """drive()'s reader on a keep-alive connection: a body by its
    Content-Length, none after HEAD whatever Content-Length says, and the
    bytes of the next response kept for it."""
    a, b = socket.socketpair()
    try:
        b.sendall(b"HTTP/1.1 302 Found\r\nContent-Length: 5\r\n\r\nhello"
                  b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}"
                  b"HTTP/1.1 302 Found\r\nContent-Length: 7\r\n\r\n"
                  b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        status, rest = callgrind._response(a, b"", False)
        assert status == 302 and rest.startswith(b"HTTP/1.1 404")
        status, rest = callgrind._response(a, rest, False)
        assert status == 404 and rest.startswith(b"HTTP/1.1 302")
        status, rest = callgrind._response(a, rest, True)
        assert status == 302 and rest.startswith(b"HTTP/1.1 200")
        status, rest = callgrind._response(a, rest, False)
        assert status == 200 and rest == b""
        b.close()
        with pytest.raises(callgrind.Error, match="closed"):
            callgrind._response(a, b"", False)
    finally:
        a.close()
        b.close()
