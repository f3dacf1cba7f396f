"""README.md's layout section against the tree: every folder git tracks is
listed exactly once, and nothing that is no folder of the repository."""

import fnmatch
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def layout_folders():
    """The folders of the code block under "## Layout", nesting by indent
    (two spaces a level), in the order written."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    folders, stack = [], []
    for line in block.splitlines():
        m = re.match(r"^( *)(\.?[A-Za-z0-9_.-]+/|\*/)(\s|$)", line)
        if not m:
            continue
        level = len(m.group(1)) // 2
        stack = stack[:level] + [m.group(2).rstrip("/")]
        folders.append("/".join(stack))
    return folders


def tracked_folders():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    return {str(p) for f in files for p in Path(f).parents if str(p) != "."}


def covered(tracked, listed):
    """The tracked folders the layout names, a `*/` line standing for every
    folder at its level (the fuzz corpus: one folder per target)."""
    return {t for t in tracked if any(fnmatch.fnmatchcase(t, f) and
                                      t.count("/") == f.count("/") for f in listed)}


def test_layout_lists_every_folder_once():
    listed = layout_folders()
    twice = sorted({f for f in listed if listed.count(f) > 1})
    assert not twice, "listed twice: %s" % twice
    tracked = tracked_folders()
    globs = [f for f in listed if "*" in f]
    assert not tracked - set(listed) - covered(tracked, globs), \
        "missing from the layout: %s" % sorted(tracked - set(listed) - covered(tracked, globs))
    listed = [f for f in listed if f not in globs]
    assert not set(listed) - tracked, "not folders of the repository: %s" % sorted(
        set(listed) - tracked)
