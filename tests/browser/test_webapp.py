"""
The web app in headless Chromium, as a person uses it: create a link and
follow it; edit it and see the redirect follow; deactivate it and see the
redirect stop; the stats page shows the clicks this test made, number for
number as the API counts them; the QR code on screen decodes to the short
URL; with API keys required, a wrong key is refused with a clear message
and the right one lets the app work. Every page is labelled for assistive
technology and works from the keyboard.
"""

import os
import subprocess
import tempfile
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from http_util import uniq

GOOGLEBOT = ("Mozilla/5.0 (compatible; Googlebot/2.1; "
             "+http://www.google.com/bot.html)")
FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
           "Firefox/125.0")


def zbar(png):
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
        f.write(png)
    try:
        out = subprocess.run(["zbarimg", "-q", "--raw", f.name],
                             capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(f.name)
    assert out.returncode == 0, f"no QR code found: {out.stderr}"
    return out.stdout.strip()


def unlabelled(b):
    """Form controls of the visible page that no label names."""
    return b.driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea')]
          .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
          .filter(e => !(e.labels && e.labels.length) &&
                       !e.getAttribute('aria-label'))
          .map(e => e.outerHTML);""")


def search(b, code):
    box = b.find("#search")
    box.clear()
    box.send_keys(code)
    b.wait(lambda d: [r.get_attribute("data-code") for r in d.find_elements(
        By.CSS_SELECTOR, "#links-body tr[data-code]")] == [code])
    return b.find(f"#links-body tr[data-code='{code}']")


def follow(b, url, want_title_part):
    b.driver.get(url)
    b.wait(lambda d: want_title_part in d.title or
           want_title_part in d.page_source)


def test_create_a_link_and_follow_it(browser, base_url, public, owner,
                                     landing, shots):
    b = browser
    code = uniq("web").replace("-", "")[-12:]
    b.driver.get(base_url + "/")
    b.find("#create-original_url").send_keys(landing + "/one")
    uid = b.find("#create-user_id")
    uid.clear()
    uid.send_keys(str(owner["id"]))
    b.find("#create-short_code").send_keys(code)
    b.find("#create-title").send_keys("Made in a browser")
    b.find("#create-max_clicks").send_keys("50")
    assert unlabelled(b) == []
    b.shot(os.path.join(shots, "create-form.png"))
    # Enter submits, as from the keyboard.
    b.find("#create-title").send_keys(Keys.ENTER)
    link = b.find("#created-link")
    api = public.get(f"/urls?short_code={code}").json()
    assert len(api) == 1, api
    u = api[0]
    assert link.get_attribute("href") == u["short_url"]
    assert (u["original_url"], u["title"], u["max_clicks"], u["user_id"]) == \
        (landing + "/one", "Made in a browser", 50, owner["id"])
    # The new link is in the list below.
    assert search(b, code).find_element(By.CSS_SELECTOR, ".badge").text == \
        "active"
    b.shot(os.path.join(shots, "links.png"))
    follow(b, u["short_url"], "Landing /one")
    assert b.driver.current_url == landing + "/one"


def test_a_refused_form_names_the_field(browser, base_url, owner):
    b = browser
    b.driver.get(base_url + "/")
    b.find("#create-original_url").send_keys("not a url")
    uid = b.find("#create-user_id")
    uid.clear()
    uid.send_keys(str(owner["id"]))
    b.find("#create-submit").click()
    b.text_is("#err-create-original_url", "must")
    field = b.find("#create-original_url")
    assert field.get_attribute("aria-invalid") == "true"
    assert b.driver.switch_to.active_element == field, "focus on the field"


def test_edit_then_deactivate_and_the_redirect_follows(
        browser, base_url, public, owner, landing, shots):
    b = browser
    r = public.post("/urls", {"user_id": owner["id"],
                              "original_url": landing + "/before"})
    u = r.json()
    b.driver.get(base_url + "/")
    row = search(b, u["short_code"])
    row.find_element(By.CSS_SELECTOR,
                     f"button[aria-label='Edit {u['short_code']}']").click()
    url = b.find(f"#edit-{u['id']}-original_url")
    url.clear()
    url.send_keys(landing + "/after")
    b.shot(os.path.join(shots, "edit.png"))
    url.send_keys(Keys.ENTER)
    b.text_is("#banner", "Saved " + u["short_code"])
    assert public.get(f"/urls/{u['id']}").json()["original_url"] == \
        landing + "/after"
    follow(b, u["short_url"], "Landing /after")

    b.driver.get(base_url + "/")
    row = search(b, u["short_code"])
    row.find_element(By.CSS_SELECTOR, "button[aria-label='Deactivate "
                     f"{u['short_code']}']").click()
    b.text_is("#banner", "Saved " + u["short_code"])
    b.wait(lambda d: d.find_element(
        By.CSS_SELECTOR, f"#links-body tr[data-code='{u['short_code']}'] "
        ".badge").text == "inactive")
    assert public.request("HEAD", "/" + u["short_code"]).status == 404
    b.driver.get(u["short_url"])
    assert "short link not found" in b.driver.page_source
    assert b.driver.current_url == u["short_url"], "no redirect"


def test_the_stats_page_shows_the_clicks_of_this_test(
        browser, base_url, public, owner, landing, shots):
    b = browser
    u = public.post("/urls", {"user_id": owner["id"],
                              "original_url": landing + "/counted"}).json()
    for _ in range(3):      # a person, in the browser
        follow(b, u["short_url"], "Landing /counted")
    for _ in range(2):
        public.get("/" + u["short_code"], headers={"User-Agent": GOOGLEBOT})
    public.get("/" + u["short_code"], headers={
        "User-Agent": FIREFOX, "Referer": "https://news.example.com/x"})
    deadline = time.time() + 15
    while time.time() < deadline:
        s = public.get(f"/urls/{u['id']}/stats").json()
        if s["period"]["human_clicks"] + s["period"]["bot_clicks"] >= 6:
            break
        time.sleep(0.2)
    p = s["period"]
    assert (s["clicks"], p["human_clicks"], p["bot_clicks"]) == (6, 4, 2), s

    b.driver.get(f"{base_url}/#/links/{u['id']}")
    b.text_is("#stat-total", str(s["clicks"]))
    assert b.find("#stat-period").text == str(p["clicks"])
    assert b.find("#stat-human").text == str(p["human_clicks"])
    assert b.find("#stat-bot").text == str(p["bot_clicks"])

    def shown(table):
        return {tr.get_attribute("data-name"): int(tr.find_element(
            By.CSS_SELECTOR, "td.n").text) for tr in b.all(
            f"#breakdown-{table} tbody tr[data-name]")}

    for table, key in (("referrers", "referrers"), ("browsers", "browsers"),
                       ("os", "os"), ("devices", "devices")):
        assert shown(table) == {r["name"]: r["clicks"] for r in p[key]}, \
            table
    assert shown("browsers") == {"Chrome": 3, "Firefox": 1}
    assert shown("bots") == {"people": 4, "bots": 2}
    # Both charts drew (uPlot makes a canvas each).
    assert len(b.all(".chart canvas")) == 2
    assert unlabelled(b) == []
    b.wait(lambda d: d.execute_script(
        "var i = document.getElementById('stats-qr');"
        "return i.complete && i.naturalWidth > 0;"))
    b.shot(os.path.join(shots, "stats.png"))


def test_the_qr_code_on_screen_decodes_to_the_short_url(
        browser, base_url, public, owner, landing, shots):
    b = browser
    u = public.post("/urls", {"user_id": owner["id"],
                              "original_url": landing + "/qr"}).json()
    b.driver.get(f"{base_url}/#/links/{u['id']}")
    img = b.find("#stats-qr")
    b.wait(lambda d: d.execute_script(
        "var i = document.getElementById('stats-qr');"
        "return i.complete && i.naturalWidth > 0;"))
    assert img.get_attribute("alt") == "QR code of " + u["short_url"]
    assert zbar(img.screenshot_as_png) == u["short_url"]

    # The list's QR dialog, opened from the keyboard.
    b.driver.get(base_url + "/")
    row = search(b, u["short_code"])
    button = row.find_element(By.CSS_SELECTOR, "button[aria-label='QR code "
                              f"of {u['short_code']}']")
    button.send_keys(Keys.ENTER)
    b.wait(lambda d: d.execute_script(
        "var i = document.getElementById('qr-image');"
        "return document.getElementById('qr-dialog').open && i.complete &&"
        " i.naturalWidth > 0;"))
    assert zbar(b.find("#qr-image").screenshot_as_png) == u["short_url"]
    b.shot(os.path.join(shots, "qr.png"))
    b.find("#qr-close").click()


@pytest.fixture
def keyed():
    """The Docker-free stack with API_KEYS_REQUIRED=1 and its admin key
    (tests/stack runs this test against it, after the open stack's suite,
    which leaves it out: -k 'not keys_on')."""
    url = os.environ.get("SHORTENER_KEYED_URL")
    key = os.environ.get("SHORTENER_KEYED_API_KEY")
    if not url or not key:
        pytest.fail("SHORTENER_KEYED_URL and SHORTENER_KEYED_API_KEY name the keyed "
                    "stack (tests/stack/test_stack.py runs this test)")
    return url, key


def test_with_keys_on_a_wrong_key_is_refused(browser, keyed, shots):
    url, real_key = keyed
    b = browser
    b.driver.get(url + "/")
    b.driver.execute_script("sessionStorage.clear()")
    b.driver.get(url + "/?fresh")
    b.text_is("#banner", "requires an API key")
    b.wait(lambda d: d.execute_script(
        "return document.getElementById('key-dialog').open"))
    key = b.find("#key-input")
    key.send_keys("wrong-key")
    b.shot(os.path.join(shots, "api-key.png"))
    key.send_keys(Keys.ENTER)
    b.text_is("#banner", "The API key was refused (401)")
    assert b.all("#links-body tr[data-code]") == []
    key = b.find("#key-input")
    key.clear()
    key.send_keys(real_key)
    b.find("#key-save").click()
    b.wait(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, "#links-body tr[data-code]")) > 0)
    assert b.find("#key-button").text == "API key: set"
    assert b.driver.execute_script(
        "return document.getElementById('banner').textContent") == ""
    b.find("#key-button").click()
    b.find("#key-clear").click()
    assert b.driver.execute_script(
        "return sessionStorage.getItem('shortener.apiKey')") is None


def test_the_api_reference_renders_from_the_document(browser, base_url,
                                                     shots):
    b = browser
    b.driver.get(base_url + "/docs")
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                         ".opblock-summary-path")) > 20,
           timeout=30)
    paths = {e.get_attribute("data-path") for e in b.all(
        ".opblock-summary-path")}
    assert "/urls/{id}/qr.svg" in paths and "/{code}" in paths, paths
    b.shot(os.path.join(shots, "docs.png"))


def test_a_narrow_screen_gets_one_column(browser, base_url):
    b = browser
    b.driver.set_window_size(420, 900)
    try:
        b.driver.get(base_url + "/")
        b.find("#create-original_url")
        wide = b.driver.execute_script(
            "return document.documentElement.scrollWidth > "
            "document.documentElement.clientWidth + 1")
        assert not wide, "no horizontal scrolling at 420 px"
    finally:
        b.driver.set_window_size(1280, 1000)
