#!/usr/bin/python3
"""fuzz.py run|test SECONDS [TARGET...] [--junitxml=FILE]: the libFuzzer
targets of tests/fuzz/ (built by `make fuzz-build` into .build/fuzz/bin/).

  run   `make fuzz`: each target fuzzes for SECONDS, one after the other,
        into a corpus that grows across runs, .build/fuzz/corpus/TARGET
        (started from the committed seeds, tests/fuzz/corpus/TARGET); a table
        of the figures (executions, coverage, corpus) goes to
        .build/fuzz/summary.md
  test  the test command's version: each target first replays its committed
        seeds (a regression run), then fuzzes SECONDS from them into a
        throwaway corpus

Every target gets its dictionary (tests/fuzz/dict/TARGET.dict), its
libFuzzer options (tests/fuzz/TARGET.options, one per line) and the
sanitizer settings of scripts/sanitize.sh. A crash, a leak, a sanitizer
report, a violated property, a timeout or an out-of-memory is a failure:
the input that caused it is kept in .build/fuzz/crashes/TARGET/ and its
path printed with the command that replays it. --junitxml writes one test
case per target (scripts/test.py counts it). The last line is
"N passed, M failed".
"""

import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUZZ = REPO / ".build" / "fuzz"
SEEDS = REPO / "tests" / "fuzz" / "corpus"
USAGE = "usage: fuzz.py run|test SECONDS [TARGET...] [--junitxml=FILE]"


def log(msg):
    print(f"fuzz: {msg}", file=sys.stderr, flush=True)


def figures(text):
    """libFuzzer's final stats (-print_final_stats=1) and the cov, ft and
    corp fields of its last status line ("#123 DONE cov: 45 ft: 67 ...")."""
    fig = dict(re.findall(r"^stat::(\w+): *(\d+)$", text, re.M))
    status = re.findall(r"^#\d+\s.*$", text, re.M)
    if status:
        fig.update(re.findall(r" (cov|ft|corp): ([0-9/a-zA-Z]+)", status[-1]))
    return fig


def options(target):
    args = []
    d = REPO / "tests" / "fuzz" / "dict" / f"{target}.dict"
    if d.is_file():
        args.append(f"-dict={d}")
    o = REPO / "tests" / "fuzz" / f"{target}.options"
    if o.is_file():
        args += [ln.strip() for ln in o.read_text().splitlines()
                 if ln.strip() and not ln.startswith("#")]
    return args


def fuzz_one(mode, seconds, target):
    """Runs one target; (passed, message, figures)."""
    binary = FUZZ / "bin" / target
    if not os.access(binary, os.X_OK):
        sys.exit(f"fuzz: {binary} missing: make fuzz-build")
    crashes = FUZZ / "crashes" / target
    corpus = FUZZ / ("corpus" if mode == "run" else "tmp") / target
    if mode == "test":
        subprocess.call(["rm", "-rf", corpus])
    for d in (crashes, FUZZ / "logs", SEEDS / target, corpus):
        d.mkdir(parents=True, exist_ok=True)
    cmd = [binary, f"-max_total_time={seconds}", "-print_final_stats=1", "-timeout=10",
           "-rss_limit_mb=2048", f"-artifact_prefix={crashes}/"] + options(target)
    cmd += [corpus, SEEDS / target]
    logfile = FUZZ / "logs" / f"{target}.log"
    # One place holds the sanitizer settings; BOT_PATTERNS is the bot list
    # fuzz_uaclass classifies with.
    env = dict(os.environ, BOT_PATTERNS=str(REPO / "assets" / "data" / "isbot-patterns.json"))
    t0 = time.monotonic()
    with open(logfile, "wb") as out:
        rc = subprocess.call(["sh", "-c", '. "$0" && exec "$@"',
                              REPO / "scripts" / "sanitize.sh"] + cmd,
                             cwd=FUZZ, env=env, stdout=out, stderr=subprocess.STDOUT)
    took = time.monotonic() - t0
    text = logfile.read_text(errors="replace")
    fig = figures(text)
    if rc != 0:
        lines = [ln for ln in text.splitlines()
                 if re.search(r"ERROR|property violated|runtime error|SUMMARY", ln)][:5]
        msg = f"FAIL {target} (exit {rc} after {took:.0f} s; log {logfile})"
        found = re.findall(r"Test unit written to (.*)$", text, re.M)
        if found:
            msg += f"\n  reproducer: {found[-1]}\n  replay:     {binary} {found[-1]}"
        return False, "\n".join(lines + [msg]), fig
    msg = (f"PASS {target}: {fig.get('number_of_executed_units', '?')} executions in "
           f"{took:.0f} s, cov {fig.get('cov', '?')}, ft {fig.get('ft', '?')}, corpus "
           f"{fig.get('corp', '?')} (inputs/bytes)")
    return True, msg, fig


def summary(rows):
    out = FUZZ / "summary.md"
    lines = ["| target | executions | per second | coverage (edges) | features | seeds "
             "| corpus (inputs/bytes) |", "|---|---|---|---|---|---|---|"]
    for target, fig in rows:
        seeds = sum(1 for p in (SEEDS / target).iterdir() if p.is_file())
        lines.append(f"| {target} | {fig.get('number_of_executed_units', '?')} | "
                     f"{fig.get('average_exec_per_sec', '?')} | {fig.get('cov', '?')} | "
                     f"{fig.get('ft', '?')} | {seeds} | {fig.get('corp', '?')} |")
    out.write_text("\n".join(lines) + "\n")
    log(f"figures: {out}")


def junit(path, results):
    suite = ET.Element("testsuite", name="fuzz", tests=str(len(results)),
                       failures=str(sum(1 for r in results if not r[1])))
    for target, ok, msg in results:
        case = ET.SubElement(suite, "testcase", classname="fuzz", name=target)
        if not ok:
            first = next(ln for ln in msg.splitlines() if ln.startswith("FAIL"))
            ET.SubElement(case, "failure", message=first).text = msg
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def main(argv):
    xml = [a.split("=", 1)[1] for a in argv if a.startswith("--junitxml=")]
    args = [a for a in argv if not a.startswith("--junitxml=")]
    if len(args) < 2 or args[0] not in ("run", "test") or not args[1].isdigit() \
            or int(args[1]) == 0:
        sys.exit(USAGE)
    mode, seconds, targets = args[0], int(args[1]), args[2:]
    if not targets:
        targets = sorted(p.stem for p in (REPO / "tests" / "fuzz").glob("fuzz_*.c"))
    if not targets:
        sys.exit("fuzz: no fuzz targets in tests/fuzz")
    subprocess.run(["make", "-C", REPO, "--no-print-directory", "-s", "fuzz-build"],
                   check=True)
    log(f"{mode}: {len(targets)} targets, {seconds} s each")
    results, rows = [], []
    for target in targets:
        ok, msg, fig = fuzz_one(mode, seconds, target)
        log(msg)
        results.append((target, ok, msg))
        if ok:
            rows.append((target, fig))
    if mode == "run":
        summary(rows)
    if xml:
        junit(xml[0], results)
    failed = sum(1 for r in results if not r[1])
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
