"""
test_report.py REPORT: the totals of a test report as "passed failed
skipped" on stdout, and every skipped test with its reason on stderr, so
that no skip goes unseen. REPORT is JUnit XML (pytest --junitxml) or TAP
(Criterion --tap). Criterion lists the tests a --filter left out as
skipped with the reason "test was skipped": those were not run and are
not counted.
"""

import re
import sys
import xml.etree.ElementTree as ET

FILTERED = "test was skipped"


def junit(path):
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skip = case.find("skipped")
            reason = skip.get("message") or (skip.text or "").strip()
            skipped += 1
            print(f"skipped: {name}: {reason or 'no reason given'}",
                  file=sys.stderr)
        else:
            passed += 1
    return passed, failed, skipped


TAP_LINE = re.compile(r"^(not ok|ok)\b\s*(?:\d+\s*)?-?\s*(.*?)(?:\s+#\s*(\w+)\s*(.*))?$")


def tap(path):
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
                skipped += 1
                print(f"skipped: {name}: {reason.strip()}", file=sys.stderr)
            elif result == "ok":
                passed += 1
            else:
                failed += 1
    return passed, failed, skipped


def main(path):
    with open(path, "rb") as f:
        start = f.read(64).lstrip()
    counts = junit(path) if start.startswith(b"<") else tap(path)
    print(*counts)


if __name__ == "__main__":
    main(sys.argv[1])
