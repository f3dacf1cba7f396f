#!/usr/bin/env python3
"""Count the sanitizer reports in a log of the sanitized module under kore.

usage: reports.py LOG [LOG...]

Every AddressSanitizer error and every UndefinedBehaviorSanitizer
"runtime error" counts, and so does a leak check that could not run
("LeakSanitizer has encountered a fatal error", e.g. a sandbox that
refused its tracer a system call). A LeakSanitizer report is split into its leaks
(one "Direct/Indirect leak of ..." block each), and a leak counts when
its allocation stack has a frame in the module: a source path under
src/ (symbolized) or shortener.so (not). A leak whose whole stack lies in
kore, libc and the sanitizer runtime is kore's own and cannot be fixed
here: it is listed, not counted. The named ones are suppressed before
they are printed (tests/sanitize/lsan.supp); this rule covers the rest:
kore's static functions, which have no name a suppression could use
(kore 4.1 re-initialises its pools in a worker it forks again after a
crash, dropping the regions it inherited from the parent), and stacks
the fast unwinder cannot follow past kore_malloc (kore has no frame
pointers), such as the parent's access-log buffer. The module is built
with frame pointers, so a leak of its own always shows its frames.

Prints each counted report (its first lines) and a last line
"sanitizers: N reports, M leaks of kore ignored"; the exit status is 0
when N is 0, else 1.
"""

import re
import sys

ASAN = re.compile(r"==\d+==ERROR: AddressSanitizer|"
                  r"LeakSanitizer has encountered a fatal error")
LSAN = re.compile(r"==\d+==ERROR: LeakSanitizer")
UBSAN = re.compile(r": runtime error: ")
LEAK = re.compile(r"^(Direct|Indirect) leak of ")
FRAME = re.compile(r"^\s+#\d+ 0x[0-9a-f]+")
OURS = re.compile(r"(^|\s|\()src/|shortener\.so")
CONTEXT = 14


def leaks(lines, start):
    """The leak blocks after an LSan header at start: (first, frames)."""
    blocks = []
    i = start + 1
    while i < len(lines) and not lines[i].startswith("SUMMARY:"):
        if LEAK.match(lines[i]):
            frames = []
            j = i + 1
            while j < len(lines) and FRAME.match(lines[j]):
                frames.append(lines[j])
                j += 1
            blocks.append((i, frames))
            i = j
        else:
            i += 1
    return blocks


def scan(lines):
    counted, ignored = [], 0
    for i, line in enumerate(lines):
        if ASAN.search(line) or UBSAN.search(line):
            counted.append(lines[i:i + CONTEXT])
        elif LSAN.search(line):
            for first, frames in leaks(lines, i):
                if any(OURS.search(f) for f in frames):
                    counted.append([line, lines[first]] + frames)
                else:
                    ignored += 1
    return counted, ignored


def main(paths):
    total, ignored = 0, 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        reports, kore = scan(lines)
        ignored += kore
        for report in reports:
            print(f"--- {path}")
            print("\n".join(report))
        total += len(reports)
    print(f"sanitizers: {total} reports, {ignored} leaks of kore ignored")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
