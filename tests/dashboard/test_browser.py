"""The real thing: `newsagg dashboard` serving the crawled demo sites, driven in headless Chromium by Selenium.

Screenshots of every page land in test-output/dashboard/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.dashboard.dashboard_world import (HOSTILE_BODY, HOSTILE_IMG, HOSTILE_SCRIPT, HOSTILE_TITLE, REPO,
                                            index_store, new_article)

from newsagg.demo import local_crawl_env
from newsagg.demo.server import DemoSites
from newsagg.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OUTPUT = REPO / "test-output" / "dashboard"
ARTICLE_LINKS = "a[data-testid='stPageLink-NavLink'][href*='article?article=']"
RELATED_LINKS = ("//div[@data-testid='stColumn'][.//h3[contains(., 'Related articles')]]"
                 "//a[@data-testid='stPageLink-NavLink'][contains(@href, 'article?article=')]")


def ensure_chromium() -> None:
    """Debian's chromium + chromedriver; installed here when running as root, else the test is skipped."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (["apt-get", "install", "-y", "chromium", "chromium-driver"], ["apt-get", "update"],
                        ["apt-get", "install", "-y", "chromium", "chromium-driver"]):
            if CHROMIUM.exists() and CHROMEDRIVER.exists():
                break
            subprocess.run(command, capture_output=True, timeout=900, check=False)
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
                    "(as root: apt-get install -y chromium chromium-driver)")


def crawl_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return local_crawl_env(NEWSAGG_DATABASE_URL=database_url, NEWSAGG_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")


def newsagg_command() -> list[str]:
    return [sys.executable, "-m", "newsagg.app.cli"]  # this tree's code (the console script: tests/test_install.py)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> dict:
    """The demo sites crawled by `newsagg crawl`, plus a hostile article, indexed by the real service."""
    data_dir = tmp_path_factory.mktemp("dashboard-demo")
    url = f"sqlite:///{data_dir / 'store.db'}"
    env = crawl_env(url, data_dir)
    with DemoSites() as sites:
        registry, _ = sites.write_files(data_dir)
        crawl = subprocess.run([*newsagg_command(), "crawl", "--registry", str(registry), "--quiet"], env=env,
                               capture_output=True, text=True, timeout=600)
    assert crawl.returncode == 0, crawl.stdout[-3000:] + crawl.stderr[-3000:]
    store = Store(url)
    hostile = store.add_article(new_article(store, "hostile", HOSTILE_TITLE, HOSTILE_BODY, ["batteries"],
                                            url="https://hostile.example/pwn"))
    syndicated = next(a.near_dup_group for a in store.iter_articles() if a.near_dup_group != a.id)
    store.close()
    index_store(url, data_dir)
    return {"url": url, "data_dir": data_dir, "env": env, "hostile": hostile, "syndicated": syndicated}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url(demo_store, tmp_path_factory):
    """`newsagg dashboard` on 127.0.0.1, as a user starts it; stopped (by its pid) afterwards."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("dashboard-log") / "dashboard.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*newsagg_command(), "dashboard", "--host", "127.0.0.1", "--port", str(port)],
                                env=demo_store["env"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"dashboard exited: {log_path.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read() == b"ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"dashboard never became healthy: {log_path.read_text()[-3000:]}"
            time.sleep(0.5)
        assert f"Dashboard: {url}/" in log_path.read_text()  # the command prints where to go
        yield url
    finally:
        proc.terminate()  # the command exec'd Streamlit: this pid is the server itself
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


# ---- helpers ----------------------------------------------------------------------------------------------
def settle(driver, timeout: float = 120) -> str:
    """Wait until the app has finished its script run (Streamlit marks it on the root element); return the text."""
    from selenium.webdriver.common.by import By

    state_js = "const a = document.querySelector('[data-testid=stApp]'); return a && a.dataset.testScriptState"
    deadline, idle = time.monotonic() + timeout, 0
    while idle < 3:  # three quiet reads in a row: a rerun that was just requested has had time to start
        assert time.monotonic() < deadline, f"the app never finished running: {driver.current_url}"
        idle = idle + 1 if driver.execute_script(state_js) == "notRunning" else 0
        time.sleep(0.3)
    time.sleep(0.5)  # the last deltas paint
    text = driver.execute_script("return document.body.innerText")
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid='stException']"), text[-2000:]
    return text


def wait_until(driver, condition, what: str, timeout: float = 60) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(condition, message=what)


def screenshot(driver, name: str, full: bool = True) -> Path:
    """The whole page (the window grows to the content's height), then the window size is restored."""
    path = OUTPUT / f"{name}.png"
    if full:
        height = driver.execute_script(
            "const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 1000")
        driver.set_window_size(1400, min(max(height + 60, 1000), 6000))
        time.sleep(1)
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path


def visit(driver, url: str) -> str:
    driver.get(url)
    return settle(driver)


def wait_for_article_page(driver) -> str:
    """The Article page is complete once its last section (Story) is drawn (the first one loads the model)."""
    from selenium.webdriver.common.by import By

    wait_until(driver, lambda d: "article?article=" in d.current_url, "the Article page to open")
    wait_until(driver, lambda d: d.find_elements(By.XPATH, "//h3[contains(., 'Story')]"), "its Story section", 120)
    return settle(driver)


# ---- tests ------------------------------------------------------------------------------------------------
def test_open_an_article_from_latest_and_see_its_related_articles(browser, dashboard_url):
    from selenium.webdriver.common.by import By

    visit(browser, dashboard_url)
    links = browser.find_elements(By.CSS_SELECTOR, ARTICLE_LINKS)
    assert len(links) >= 10, "Latest lists articles as links"
    screenshot(browser, "latest")
    title = links[0].text
    links[0].click()
    wait_for_article_page(browser)
    assert "/article?article=" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    related = browser.find_elements(By.XPATH, RELATED_LINKS)
    assert related, "the article's Related Articles are shown"
    assert "score 0." in browser.execute_script("return document.body.innerText")
    screenshot(browser, "article")
    next_title, next_href = related[0].text, related[0].get_attribute("href")
    related[0].click()  # a related article's link opens its own Article page, and the URL is its deep link
    wait_until(browser, lambda d: d.current_url == next_href, "the related article's deep link")
    wait_for_article_page(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == next_title


def test_article_with_a_syndicated_copy_lists_it_under_also_in(browser, dashboard_url, demo_store):
    from selenium.webdriver.common.by import By

    browser.get(f"{dashboard_url}/article?article={demo_store['syndicated']}")
    wait_for_article_page(browser)
    also_in = browser.find_elements(
        By.XPATH, "//div[@data-testid='stColumn'][.//h3[contains(., 'Also in')]]"
                  "//a[@data-testid='stPageLink-NavLink'][.//span[contains(., ':')]]")
    assert also_in, "the copy is listed"
    screenshot(browser, "article-with-copy", full=False)


def test_hostile_article_is_shown_as_text_and_runs_nothing(browser, dashboard_url, demo_store):
    from selenium.webdriver.common.by import By

    browser.get(f"{dashboard_url}/article?article={demo_store['hostile']}")
    text = wait_for_article_page(browser)
    assert HOSTILE_SCRIPT in text and HOSTILE_IMG in text  # the literal markup, visible as text
    assert browser.find_element(By.TAG_NAME, "h1").text == HOSTILE_TITLE
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert not browser.find_elements(By.CSS_SELECTOR, "img[src='x'], a[href^='javascript:']")
    screenshot(browser, "article-hostile")
    text = visit(browser, f"{dashboard_url}/?q=Pwned")  # its title as a link label on Latest, too
    assert HOSTILE_SCRIPT in text and browser.execute_script("return typeof window.__pwned") == "undefined"


@pytest.mark.parametrize("name, path, charts", [
    ("stories", "/stories", 1), ("sources", "/sources", 4), ("map", "/map", 1),
])
def test_every_page_renders_with_its_charts(browser, dashboard_url, name, path, charts):
    from selenium.webdriver.common.by import By

    visit(browser, dashboard_url + path)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) >= charts
    screenshot(browser, name)
    if name == "stories":  # and one story's own page: its timeline and coverage
        browser.find_element(By.CSS_SELECTOR, "a[data-testid='stPageLink-NavLink'][href*='story=']").click()
        wait_until(browser, lambda d: "story=" in d.current_url, "the story page to open")
        settle(browser)
        assert browser.find_elements(By.CSS_SELECTOR, ARTICLE_LINKS), "a story lists its coverage"
        screenshot(browser, "story")
    if name == "map":  # a point is an article link too
        from selenium.webdriver.common.action_chains import ActionChains

        points = browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .scatterlayer .point")
        assert len(points) > 100, "every embedded demo article is a point"
        ActionChains(browser).move_to_element(points[0]).pause(0.5).click().perform()
        wait_for_article_page(browser)
