"""Drives the real pages in headless Chromium: sign in, Students, filter by class, a student's page.

Needs a running server with the demo district: SCHOOLBATCH_URL, SCHOOLBATCH_USER, SCHOOLBATCH_PASSWORD.
Screenshots go to SCREENSHOT_DIR (default: screenshots/).
"""
import os
import pathlib

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("SCHOOLBATCH_URL", "http://127.0.0.1:8080")
USER = os.environ.get("SCHOOLBATCH_USER", "admin")
PASSWORD = os.environ.get("SCHOOLBATCH_PASSWORD", "")
SHOTS = pathlib.Path(os.environ.get("SCREENSHOT_DIR", "screenshots"))


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name):
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
    driver.set_window_size(1366, max(900, height))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def page_replaced(element):
    """A wait condition: the page holding `element` has been replaced. Asked about an element of a page that is
    being unloaded, chromedriver answers "stale" or, now and then, "unhandled inspector error": both mean gone."""

    def gone(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:  # StaleElementReferenceException is one
            return True

    return gone


def sign_in(driver, username, password):
    driver.get(BASE + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()


def test_wrong_password_is_refused_with_a_plain_message(browser):
    browser.delete_all_cookies()
    sign_in(browser, USER, "not-the-password")
    assert "username or password is not right" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    shot(browser, "01-sign-in-refused")


def test_sign_in_shows_the_batch_data_update_table(browser):
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Batch Data Update"
    names = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.features th[scope=row]")]
    assert names == ["Roster batch upload", "Student Photo", "Student Email", "Student Assessment Documents"]
    shot(browser, "02-home")


def test_students_filter_by_class_and_open_a_student(browser):
    browser.get(BASE + "/students")
    total_text = browser.find_element(By.CSS_SELECTOR, "p[role=status]").text
    assert "of 8" in total_text  # the demo district has about 850 students
    shot(browser, "03-students")
    select = Select(browser.find_element(By.ID, "classId"))
    chosen = select.options[3].text  # a class of the demo district
    select.select_by_index(3)
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.url_contains("classId="))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.people tbody tr")
    assert 20 <= len(rows) <= 40, f"a class has 24–32 students, got {len(rows)}"
    class_name = chosen.split(" — ")[0]
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.people thead th")]
    column = headers.index("Class")
    for row in rows:
        assert class_name in row.find_elements(By.TAG_NAME, "td")[column].text
    shot(browser, "04-students-filtered-by-class")
    first = rows[0].find_element(By.CSS_SELECTOR, "td a")
    name = first.text
    first.click()
    WebDriverWait(browser, 10).until(EC.url_contains("/students/"))
    heading = browser.find_element(By.TAG_NAME, "h1").text
    last = name.split(",")[0]
    assert last in heading
    assert browser.find_element(By.XPATH, "//h2[text()='Classes']")
    assert class_name in browser.find_element(By.CSS_SELECTOR, "section table").text
    shot(browser, "05-student")


def test_schools_page_shows_the_activation_gate(browser):
    browser.get(BASE + "/schools")
    assert "Roster batch upload" in browser.find_element(By.ID, "gate-title").text
    assert "Available" in browser.find_element(By.CSS_SELECTOR, ".gate").text
    shot(browser, "06-schools")
