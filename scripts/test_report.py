"""
test_report.py REPORT: the totals of a test report as "passed failed
skipped" on stdout, and every skipped test with its reason on stderr, so
that no skip goes unseen. REPORT is JUnit XML (pytest --junitxml) or TAP
(Criterion --tap). Criterion lists the tests a --filter left out as
skipped with the reason "test was skipped": those were not run and are
not counted.

With CI=true (.ci/run sets it; 1 and yes count too) a skip that
tests/expected-skips.txt does not allow counts as failed, not skipped, and
is printed as "UNEXPECTED SKIP": in CI every suite must run. That file
lists, one a line, "NAME-GLOB | REASON-GLOB | why it may be skipped"
(fnmatch patterns, matched against the test's name and its skip reason);
docs/testing.md describes it.
"""

import fnmatch
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

FILTERED = "test was skipped"
ALLOWLIST = Path(__file__).resolve().parent.parent / "tests" / "expected-skips.txt"


def allowed_skips(path=ALLOWLIST):
    """[(name glob, reason glob)] from PATH; a malformed line is an error."""
    rules = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) != 3 or not all(parts):
            sys.exit("%s:%d: not NAME-GLOB | REASON-GLOB | WHY" % (path, n))
        rules.append((parts[0], parts[1]))
    return rules


class Skips:
    """Each skip printed with its reason; under CI=true the ones the
    allowlist does not match are counted apart, as failures."""

    def __init__(self):
        self.ci = os.environ.get("CI", "").lower() in ("true", "1", "yes")
        self.rules = allowed_skips() if self.ci else []

    def unexpected(self, name, reason):
        reason = reason or "no reason given"
        ok = not self.ci or any(fnmatch.fnmatchcase(name, n) and fnmatch.fnmatchcase(reason, r)
                                for n, r in self.rules)
        print("%s: %s: %s" % ("skipped" if ok else "UNEXPECTED SKIP (CI=true, not in "
                              "tests/expected-skips.txt)", name, reason), file=sys.stderr)
        return not ok


def junit(path, skips):
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skip = case.find("skipped")
            reason = skip.get("message") or (skip.text or "").strip()
            if skips.unexpected(name, reason):
                failed += 1
            else:
                skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


TAP_LINE = re.compile(r"^(not ok|ok)\b\s*(?:\d+\s*)?-?\s*(.*?)(?:\s+#\s*(\w+)\s*(.*))?$")


def tap(path, skips):
    passed = failed = skipped = 0
    with open(path, errors="replace") as f:
        for line in f:
            m = TAP_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            result, name, directive, reason = m.groups()
            if directive and directive.upper() == "SKIP":
                if reason.strip() == FILTERED:
                    continue
                if skips.unexpected(name, reason.strip()):
                    failed += 1
                else:
                    skipped += 1
            elif result == "ok":
                passed += 1
            else:
                failed += 1
    return passed, failed, skipped


def main(path):
    with open(path, "rb") as f:
        start = f.read(64).lstrip()
    skips = Skips()
    counts = (junit if start.startswith(b"<") else tap)(path, skips)
    print(*counts)


if __name__ == "__main__":
    main(sys.argv[1])
