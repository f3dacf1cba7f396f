"""
screenshots.py [BASE_URL] [OUT_DIR]: the web app's main pages as PNG files
(`make screenshots`: docs/screenshots/, against `make up`'s stack).

Makes its own sample (an owner, a few links, clicks from known browsers,
a bot and a Referer, so that the stats page has something to show), then
opens each page in headless Chromium (tests/browser/browser.py) and saves
it: the links, the new-link form filled in, a link's stats, its QR code,
the API-key dialog and the API reference.
"""

import json
import os
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "browser"))

from browser import Browser  # noqa: E402

AGENTS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
     "like Gecko) Chrome/124.0.0.0 Safari/537.36", "https://news.example.com/", 9),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/"
     "605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
     None, 6),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "https://social.example.org/post/1", 4),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     None, 3),
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            raw = r.read()
    except urllib.error.HTTPError as e:
        raw = e.read()
        if e.code >= 400 and e.code != 404:
            raise SystemExit(f"{method} {path}: {e.code} {raw[:200]!r}")
    return json.loads(raw) if raw else None


def sample(base):
    stamp = str(int(time.time()))
    user = call(base, "POST", "/users", {"username": "Ada Lovelace",
                                         "email": f"ada-{stamp}@example.com"})
    links = []
    for path, title, extra in (
            ("/launch/2025", "Launch announcement", {"max_clicks": 500}),
            ("/docs/getting-started", "Getting started", {}),
            ("/pricing", "Pricing page", {"expires_at": "2030-12-31T23:59:59"})):
        links.append(call(base, "POST", "/urls", dict({
            "user_id": user["id"], "title": title,
            "original_url": "https://example.com" + path}, **extra)))
    first = links[0]
    for ua, ref, n in AGENTS:
        headers = {"User-Agent": ua}
        if ref:
            headers["Referer"] = ref
        for _ in range(n):
            call(base, "GET", "/" + first["short_code"], headers=headers)
    time.sleep(1)
    return user, first


def main():
    base = (sys.argv[1] if len(sys.argv) > 1 else
            os.environ.get("HOST", "http://127.0.0.1:8080")).rstrip("/")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        REPO, "docs", "screenshots")
    os.makedirs(out, exist_ok=True)
    user, link = sample(base)
    b = Browser()
    try:
        b.driver.get(base + "/")
        b.find("#links-body tr")
        owner = b.find("#user-filter")
        owner.send_keys(str(user["id"]))
        b.driver.execute_script(
            "arguments[0].dispatchEvent(new Event('change'))", owner)
        b.wait(lambda d: len(d.find_elements(
            "css selector", "#links-body tr[data-code]")) == 3)
        b.shot(os.path.join(out, "links.png"))
        b.driver.get(base + "/")
        b.find("#create-original_url").send_keys(
            "https://example.com/blog/how-we-shorten")
        uid = b.find("#create-user_id")
        uid.clear()
        uid.send_keys(str(user["id"]))
        b.find("#create-short_code").send_keys("blog-post")
        b.find("#create-title").send_keys("How we shorten")
        b.find("#create-max_clicks").send_keys("1000")
        b.shot(os.path.join(out, "create.png"))
        b.driver.get(f"{base}/#/links/{link['id']}")
        b.find("#stat-total")
        b.wait(lambda d: d.execute_script(
            "var i = document.getElementById('stats-qr');"
            "return i.complete && i.naturalWidth > 0;"))
        b.shot(os.path.join(out, "stats.png"))
        b.driver.get(base + "/")
        b.find("#links-body tr[data-code] button[aria-label^='QR']").click()
        b.wait(lambda d: d.execute_script(
            "var i = document.getElementById('qr-image');"
            "return i.complete && i.naturalWidth > 0;"))
        b.shot(os.path.join(out, "qr.png"))
        b.driver.get(base + "/")
        b.find("#key-button").click()
        b.find("#key-input").send_keys("example-key")
        b.shot(os.path.join(out, "api-key.png"))
        b.driver.get(base + "/docs")
        b.wait(lambda d: len(d.find_elements(
            "css selector", ".opblock-summary-path")) > 20, timeout=30)
        b.shot(os.path.join(out, "docs.png"))
    finally:
        b.quit()
    print(f"screenshots: {', '.join(sorted(os.listdir(out)))} in {out}")


if __name__ == "__main__":
    main()
