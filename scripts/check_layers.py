"""
check_layers.py: the folders of src/ form layers that do not loop back.

    python3 scripts/check_layers.py [SRC_DIR]

Each folder may include its own headers and those of the folders below it
in LAYERS, nothing above; core/ and config/ include no Kore header (pure
logic, unit-tested). A new include that breaks this, or a folder the list
does not know, fails the check with the file and line. The order is the
architecture (docs/architecture.md, "Layers").
"""

import os
import re
import sys

LAYERS = ["core", "config", "obs", "db", "cache", "clicks", "http", "api", "app"]
PURE = {"core", "config"}

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]')


def main(src):
    problems = []
    rank = {name: i for i, name in enumerate(LAYERS)}
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in rank:
            problems.append(f"{folder}/: a folder the layers do not list")
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(path, name)) as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    kind, target = m.groups()
                    where = f"src/{folder}/{name}:{n}"
                    if kind == "<" and target.startswith("kore/") and \
                            folder in PURE:
                        problems.append(f"{where}: {folder}/ is pure, "
                                        f"yet includes <{target}>")
                    if kind != '"' or "/" not in target:
                        continue
                    other = target.split("/")[0]
                    if other not in rank:
                        problems.append(f"{where}: includes {target}, "
                                        "from no known layer")
                    elif rank[other] > rank[folder]:
                        problems.append(f"{where}: {folder}/ includes "
                                        f"{target}, a layer above it")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"layers: {' < '.join(LAYERS)}: "
          f"{'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(here, "src")))
