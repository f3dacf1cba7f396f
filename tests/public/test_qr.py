"""
QR codes of short links: the image decodes (zbarimg, Debian's zbar-tools)
to the link's short_url, in SVG and PNG; size and ecc change the image as
asked; every bad parameter is a 400 naming it; an unknown URL is a 404.
"""

import os
import struct
import subprocess
import tempfile
import zlib

import pytest

from http_util import expect_json_error, uniq


@pytest.fixture(scope="module")
def link(public):
    r = public.post("/users", {"username": uniq("qr"),
                               "email": uniq("qr") + "@example.com"})
    assert r.status == 201, r
    r = public.post("/urls", {"user_id": r.json()["id"],
                              "original_url": "https://example.com/qr"})
    assert r.status == 201, r
    return r.json()


def decode_png(data):
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
        f.write(data)
    try:
        out = subprocess.run(["zbarimg", "-q", "--raw", f.name],
                             capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(f.name)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("ecc", ["L", "M", "Q", "H"])
def test_the_png_decodes_to_the_short_url(public, link, ecc):
    r = public.get(f"/urls/{link['id']}/qr.png?size=320&ecc={ecc}")
    assert r.status == 200, r
    assert r.header("content-type") == "image/png"
    assert png_size(r.body) == (320, 320)
    assert decode_png(r.body) == link["short_url"]


def test_size_is_the_image_size(public, link):
    for size in (64, 100, 777, 2048):
        r = public.get(f"/urls/{link['id']}/qr.png?size={size}")
        assert png_size(r.body) == (size, size), size
        # The CRC of IHDR is right: a strict decoder would refuse it.
        assert struct.unpack(">I", r.body[29:33])[0] == \
            zlib.crc32(r.body[12:29])


def test_the_svg_has_the_asked_size_and_more_modules_at_higher_ecc(
        public, link):
    low = public.get(f"/urls/{link['id']}/qr.svg?size=300&ecc=L")
    high = public.get(f"/urls/{link['id']}/qr.svg?size=300&ecc=H&margin=2")
    assert low.status == high.status == 200
    assert low.header("content-type").startswith("image/svg+xml")
    assert b'width="300" height="300"' in low.body
    view = [int(x.body.split(b'viewBox="0 0 ')[1].split(b" ")[0])
            for x in (low, high)]
    # Modules + 2 * margin: H needs a larger symbol than L for one text.
    assert view[1] - 4 > view[0] - 8, view
    assert public.get(f"/urls/{link['id']}/qr.svg").header(
        "cache-control") == "public, max-age=86400"


@pytest.mark.parametrize("query,param", [
    ("size=63", "size"), ("size=2049", "size"), ("size=abc", "size"),
    ("size=", "size"), ("size=1e3", "size"), ("ecc=X", "ecc"),
    ("ecc=l", "ecc"), ("ecc=", "ecc"), ("margin=17", "margin"),
    ("margin=-1", "margin"), ("colour=red", "colour"),
])
def test_bad_parameters_are_a_400_naming_them(public, link, query, param):
    for ext in ("svg", "png"):
        r = public.get(f"/urls/{link['id']}/qr.{ext}?{query}")
        doc = expect_json_error(r, 400, query)
        assert f"'{param}'" in doc["error"], doc


def test_an_unknown_url_is_a_404(public):
    expect_json_error(public.get("/urls/999999999/qr.svg"), 404, "unknown")
    expect_json_error(public.get("/urls/abc/qr.png"), 404, "not an id")
