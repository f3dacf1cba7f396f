"""
docs/configuration.md says what src/config/config.c reads: every setting
the code reads is a row with the same default (and range, for numbers),
and every row names a setting the code reads.
"""

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*path):
    with open(os.path.join(REPO, *path)) as f:
        return f.read()


def code_settings():
    src = re.sub(r"\s+", " ", read("src", "config", "config.c")
                 .replace("\\\n", " "))
    # Macros for long defaults: #define NAME "part" "part".
    for macro, value in re.findall(r'#define ([A-Z_]+) ((?:"[^"]*" ?)+)', src):
        joined = '"' + "".join(re.findall(r'"([^"]*)"', value)) + '"'
        src = src.replace(f", {macro})", f", {joined})")
    found = {}
    for name, default in re.findall(r'env_or\("([A-Z_]+)", ?("?[^")]*"?)\)', src):
        found[name] = (default, None)
    for name, default, lo, hi in re.findall(
            r'env_long\( ?"([A-Z_]+)", ?([^,]+), ?([^,]+), ?([^)]+)\)', src):
        found[name] = (default.strip(), (lo.strip(), hi.strip()))
    return found


def doc_rows():
    text = read("docs", "configuration.md")
    section = text.split("## The service", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


def evaluate(expr):
    # 1024 * 1024, 16 * 1024 * 1024: the products config.c writes.
    if re.fullmatch(r"[0-9 *]+", expr):
        n = 1
        for part in expr.split("*"):
            n *= int(part)
        return str(n)
    return expr


def test_every_setting_is_documented_with_its_default_and_range():
    code, docs = code_settings(), doc_rows()
    assert len(code) >= 15, code
    for name, (default, rng) in code.items():
        assert name in docs, f"{name} is read by config.c, not in the docs"
        doc_default, doc_range = docs[name]
        if default.startswith('"'):
            want = default.strip('"')
            assert doc_default == f"`{want}`", (name, want, doc_default)
        else:
            assert doc_default == f"`{evaluate(default)}`", (name, doc_default)
        if rng is not None:
            lo, hi = evaluate(rng[0]), evaluate(rng[1])
            assert doc_range == f"{lo}..{hi}", (name, doc_range, lo, hi)


def test_every_documented_setting_is_read():
    code = code_settings()
    for name in doc_rows():
        assert name in code, f"{name} is documented, config.c reads none"
