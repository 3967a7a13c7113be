"""A headless Chromium driven by Selenium, for the admin's browser tests.

Debian's `chromium` and `chromium-driver` (.ci/run installs them when missing). One browser per
test module (`browser` fixture in conftest.py), a fresh profile each time. Screenshots go to
artifacts/screenshots/ (gitignored), named by the test.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as expected
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = BASE_DIR / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1440, 900  # a normal screen
WAIT = 10


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


class Browser:
    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="sofinance-chromium-")
        options = webdriver.ChromeOptions()
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={self.profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            "--lang=en-US",
        ):
            options.add_argument(flag)
        options.binary_location = CHROMIUM
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
        self.driver.set_page_load_timeout(30)
        self.base_url = ""

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ----- navigation

    def go(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def login(self, username: str, password: str) -> None:
        self.driver.delete_all_cookies()
        self.go("/admin/login/")
        self.type("#id_username", username)
        self.type("#id_password", password)
        self.click("input[type=submit]")
        self.wait_for("#user-tools")

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    # ----- elements

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def exists(self, css: str) -> bool:
        return bool(self.find_all(css))

    def wait_for(self, css: str) -> WebElement:
        return WebDriverWait(self.driver, WAIT).until(
            expected.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def wait_text(self, css: str, text: str) -> None:
        WebDriverWait(self.driver, WAIT).until(
            expected.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
        )

    def text(self, css: str) -> str:
        return self.find(css).text

    def click(self, css: str) -> None:
        element = self.find(css)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()

    def click_link(self, text: str) -> None:
        element = self.driver.find_element(By.LINK_TEXT, text)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()

    def type(self, css: str, text: str, *, clear: bool = True) -> None:
        element = self.find(css)
        if clear:
            element.clear()
        element.send_keys(text)

    def select(self, css: str, label: str) -> None:
        Select(self.find(css)).select_by_visible_text(label)

    def select2(self, select_css: str, search: str) -> None:
        """Choose in an admin autocomplete (select2) by typing, as a person does."""
        container = self.find(select_css).find_element(
            By.XPATH, "following-sibling::span[contains(@class,'select2')]"
        )
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", container)
        container.click()
        field = self.wait_for(".select2-container--open .select2-search__field")
        field.send_keys(search)
        WebDriverWait(self.driver, WAIT).until(
            lambda d: any(
                search in option.text
                for option in d.find_elements(By.CSS_SELECTOR, ".select2-results__option--highlighted")
            )
        )
        field.send_keys(Keys.ENTER)

    # ----- what a person sees

    def shot(self, name: str) -> Path:
        """A full-page screenshot (the window grown to the page's height) in artifacts/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(WIDTH, min(max(height + 120, HEIGHT), 4000))
        time.sleep(0.2)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(WIDTH, HEIGHT)
        return path

    def console_errors(self) -> list[str]:
        """Errors the page logged since the last call: blocked scripts (CSP), script errors."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
        ]

    def fits_width(self) -> bool:
        """The page needs no horizontal scrolling at the window's width, and neither does any
        lines table (an inline group scrolls inside the page rather than widening it) nor a
        list's results (a change list scrolls in its box: its last columns, a row's links, hide)."""
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            " && Array.from(document.querySelectorAll('.inline-group, #changelist .results'))"
            ".every((box) => box.scrollWidth <= box.clientWidth)"
        )
