"""
callgrind.py: instructions per request of a Kore worker, counted by
valgrind's callgrind (`make bench`, phase 5; scripts/bench_redirect.py).

This VM has no hardware performance counters (perf does not work), and
time per request on two shared cores is noisy. Callgrind counts the
instructions a process executes (Ir), the same count for the same work
whatever else runs on the machine. How a count is taken:

  - The server runs whole under valgrind (`valgrind --tool=callgrind
    --trace-children=yes kore -f ...`, one worker): the real kore binary
    and the real module, built in a flavor whose only difference is the
    seccomp rules valgrind's own system calls need (conf/build.conf,
    src/app/init.c). A forked worker stays under valgrind; with
    --trace-children=yes it also gets its own gdbserver, which is what
    callgrind_control talks to.
  - After a warm-up the worker's counters are zeroed (callgrind_control
    -z), a fixed client (drive(): CONNECTIONS keep-alive connections, one
    request in flight on each, in lock step) sends N requests and counts
    the answers of the expected status, the client waits for what the
    worker does after answering (a click's batch insert is paced at 50
    ms), and the counters are dumped (callgrind_control --dump).
  - Instructions per request: the dump's total (its `summary:` line)
    divided by the requests answered. Everything the worker executed in
    user space in that window is in it: Kore's event loop, HTTP parsing,
    the handler, hiredis and libpq on the worker's side, the click
    writer, the timers that fired meanwhile. Not in it: the kernel
    (system calls, TCP, epoll: valgrind does not see the kernel), the
    Kore parent, and the other processes (Redis, PostgreSQL, the client).

Pure parts (unit-tested in tests/tools/test_callgrind.py): summary_ir()
reads a dump's total, functions() sums each function's own (self) and
inclusive instructions from a dump. callgrind_annotate shows the
functions that were on the stack when the counters were zeroed (the
worker's main loop, `calls=0` in the file) with their inclusive cost as
their own, so the self figures are computed here; inclusive ones match
`callgrind_annotate --inclusive=yes`.
"""

import glob
import os
import re
import socket
import subprocess
import time

CONNECTIONS = 8

# callgrind's name compression: "(12) name" defines id 12, "(12)" reuses it.
_NAMED = re.compile(r"^\((\d+)\)(?:\s(.*))?$")
_SPEC = re.compile(r"^(ob|fl|fi|fe|fn|cob|cfi|cfl|cfn)=(.*)$")


class Error(Exception):
    pass


# ---- parsing a dump ---------------------------------------------------------

def _event_index(text):
    m = re.search(r"^events:\s*(.+)$", text, re.M)
    if not m:
        raise Error("not a callgrind dump: no 'events:' line")
    events = m.group(1).split()
    if "Ir" not in events:
        raise Error("the dump has no Ir event")
    return events.index("Ir")


def summary_ir(text):
    """Instructions executed in the dump's window: its 'summary:' line (the
    total cost of the part), or 'totals:' when a writer left summary out."""
    i = _event_index(text)
    for key in ("summary", "totals"):
        m = re.search(rf"^{key}:\s*(.+)$", text, re.M)
        if m:
            return int(m.group(1).split()[i])
    raise Error("the dump has neither 'summary:' nor 'totals:'")


def functions(text):
    """{"name [object]": (self Ir, inclusive Ir)} from a dump.

    A cost line belongs to the current fn= as its own cost, unless it
    follows a calls= line: then it is the inclusive cost of that call,
    which counts towards the caller's inclusive cost only. Inclusive =
    self + calls made, as callgrind_annotate --inclusive=yes sums it (a
    recursive function counts its inner calls again)."""
    ir = _event_index(text)
    npos = 1
    m = re.search(r"^positions:\s*(.+)$", text, re.M)
    if m:
        npos = len(m.group(1).split())
    names = {"ob": {}, "fn": {}}
    ob = fn = None
    self_ir, incl = {}, {}
    in_call = False

    def resolve(kind, value):
        table = names["ob" if kind in ("ob", "cob") else "fn"]
        m = _NAMED.match(value)
        if not m:
            return value
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
            return m.group(2)
        if m.group(1) not in table:
            raise Error(f"{kind}=({m.group(1)}) used before it was named")
        return table[m.group(1)]

    for line in text.splitlines():
        s = _SPEC.match(line)
        if s:
            kind, value = s.groups()
            if kind == "ob":
                ob = resolve(kind, value)
            elif kind == "fn":
                fn = f"{resolve(kind, value)} [{os.path.basename(ob or '???')}]"
                self_ir.setdefault(fn, 0)
                incl.setdefault(fn, 0)
            elif kind in ("cob", "cfn"):
                resolve(kind, value)	# defines names used later
            continue
        if line.startswith("calls="):
            in_call = True
            continue
        if not line or not (line[0].isdigit() or line[0] in "+-*"):
            in_call = False
            continue
        fields = line.split()
        # Trailing zero costs may be left out of a line.
        cost = int(fields[npos + ir]) if len(fields) > npos + ir else 0
        if fn is None:
            raise Error("a cost line before any fn=")
        incl[fn] += cost
        if not in_call:
            self_ir[fn] += cost
        in_call = False
    return {f: (self_ir[f], incl[f]) for f in self_ir}


def top(funcs, n, inclusive=False, below=None):
    """The n costliest functions, [(Ir, name)], by self or inclusive Ir;
    with below (the dump's total), inclusive rows that hold all of it are
    left out: the frames around the worker's event loop (main,
    kore_worker_entry...), which say nothing about a request."""
    k = 1 if inclusive else 0
    rows = sorted(((v[k], f) for f, v in funcs.items()
                   if v[k] > 0 and (below is None or v[k] < below)),
                  key=lambda r: (-r[0], r[1]))
    return rows[:n]


# ---- a server under callgrind ------------------------------------------------

class Server:
    """kore under valgrind --tool=callgrind, its dumps in DIR/cg.PID[.N]."""

    def __init__(self, name, conf, cwd, env=None):
        self.name, self.dir = name, cwd
        self.prefix = os.path.join(cwd, "vgdb")
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=yes",
               f"--vgdb-prefix={self.prefix}",
               f"--callgrind-out-file={os.path.join(cwd, 'cg.%p')}",
               "kore", "-f", "-n", "-r", "-c", conf]
        self.log = open(os.path.join(cwd, "callgrind.log"), "a")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def worker(self):
        """The pid of the one worker (the Kore parent's only child)."""
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                kids.append(int(d))
        if len(kids) != 1:
            raise Error(f"{self.name}: {len(kids)} workers under valgrind, "
                        "expected 1")
        return kids[0]

    def control(self, *args):
        pid = self.worker()
        p = subprocess.run(["callgrind_control",
                            f"--vgdb-prefix={self.prefix}", *args, str(pid)],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0 or "OK." not in p.stdout:
            raise Error(f"{self.name}: callgrind_control {' '.join(args)} "
                        f"{pid} failed: {p.stdout.strip()} "
                        f"{p.stderr.strip()}")
        return pid

    def zero(self):
        return self.control("--zero")

    def dump(self):
        """Dumps the worker's counters; the path of the new dump."""
        pid = self.worker()
        before = set(glob.glob(os.path.join(self.dir, f"cg.{pid}.*")))
        self.control("--dump")
        new = set(glob.glob(os.path.join(self.dir, f"cg.{pid}.*"))) - before
        if len(new) != 1:
            raise Error(f"{self.name}: no new dump from worker {pid}")
        return new.pop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---- the fixed client -------------------------------------------------------

def _response(sock, buf, head_only):
    """Reads one response from sock (buf: bytes already read); returns
    (status, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise Error("the server closed a connection")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for h in lines[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if head_only:
        length = 0
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise Error("the server closed a connection")
        buf += chunk
    return status, buf[length:]


def drive(port, paths, method="GET", expect=302, agent="bench-callgrind"):
    """Sends one request per path over CONNECTIONS keep-alive connections
    to 127.0.0.1:port, one in flight on each, in lock step; returns how
    many were answered with status expect (any other status is an error)."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=60)
             for _ in range(CONNECTIONS)]
    bufs = [b""] * len(conns)
    answered = 0
    try:
        for at in range(0, len(paths), len(conns)):
            batch = paths[at:at + len(conns)]
            for c, path in zip(conns, batch):
                c.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"User-Agent: {agent}\r\n\r\n".encode())
            for i, path in enumerate(batch):
                status, bufs[i] = _response(conns[i], bufs[i],
                                            method == "HEAD")
                if status != expect:
                    raise Error(f"{method} {path}: {status}, expected "
                                f"{expect}")
                answered += 1
    finally:
        for c in conns:
            c.close()
    return answered


def wait_answering(port, path, expect, seconds=120):
    """Until GET path answers expect (valgrind starts slowly)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if drive_one(port, path) == expect:
                return
        except (OSError, Error):
            pass
        time.sleep(0.2)
    raise Error(f"127.0.0.1:{port}{path} never answered {expect}")


def drive_one(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "User-Agent: bench-callgrind\r\n\r\n".encode())
        return _response(c, b"", False)[0]

