"""
Headless Chromium for the browser tests and `make screenshots`: Debian's
chromium driven through Debian's chromedriver by Debian's python3-selenium.
The flags keep Chromium off the network (this machine has none) and
away from anything but the page under test.
"""

import os
import shutil
import tempfile

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# A desktop Chrome's User-Agent: headless Chromium's own says
# "HeadlessChrome", which the bot list rightly counts as a bot.
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
# The browser tests' landing page runs on 127.0.0.1, but links to loopback
# addresses are refused (hostile links, docs/security.md): the links name
# it LANDING_HOST, which only this browser resolves, to 127.0.0.1.
LANDING_HOST = "landing.example"
FLAGS.append("--host-resolver-rules=MAP %s 127.0.0.1" % LANDING_HOST)


class Browser:
    def __init__(self, width=1280, height=1000):
        self.profile = tempfile.mkdtemp(prefix="shortener-chromium.")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for f in FLAGS + [f"--user-data-dir={self.profile}",
                          f"--window-size={width},{height}",
                          f"--user-agent={DESKTOP_UA}"]:
            opts.add_argument(f)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                       options=opts)
        self.driver.set_page_load_timeout(30)

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def wait(self, condition, timeout=15):
        # A list re-rendered while a condition reads it leaves it holding
        # a stale element: the condition is asked again, not failed.
        return WebDriverWait(self.driver, timeout, ignored_exceptions=(
            StaleElementReferenceException,)).until(condition)

    def find(self, css, timeout=15):
        return self.wait(EC.visibility_of_element_located(
            (By.CSS_SELECTOR, css)), timeout)

    def text_is(self, css, text, timeout=15):
        return self.wait(EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, css), text), timeout)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def shot(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # The whole page: as tall as its content.
        h = self.driver.execute_script(
            "return document.documentElement.scrollHeight")
        w = self.driver.execute_script(
            "return document.documentElement.clientWidth")
        self.driver.set_window_size(max(w, 1280), min(max(h, 800), 4000))
        self.driver.save_screenshot(path)
