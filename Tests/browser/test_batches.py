"""Drives an e-mail batch through the real pages in headless Chromium: upload with a few bad rows, preview
(old → new and every problem), Process with confirmation, and Upload Status following the batch from `queued`
to `completed` without a reload. Then undo.

The server runs with no workers of its own (SCHOOLBATCH_WORKERS=0) so the page is seen while the batch waits;
this test then starts a `schoolbatch worker` process (SCHOOLBATCH_BIN, SCHOOLBATCH_DATA_DIR) to apply it.
"""
import os
import pathlib
import subprocess

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from test_pages import BASE, PASSWORD, USER, browser, shot, sign_in  # noqa: F401  (fixture)

BIN = os.environ.get("SCHOOLBATCH_BIN", ".build/debug/schoolbatch")
DATA = os.environ.get("SCHOOLBATCH_DATA_DIR", "")


def api(driver, path):
    """GET an API path with the browser's session."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {headers: {Accept: 'application/json'}}).then(r => r.json()).then(done);", path)


@pytest.fixture(scope="module")
def worker():
    started = []

    def start():
        env = dict(os.environ, SCHOOLBATCH_DATA_DIR=DATA, LOG_LEVEL="info")
        env.pop("DATABASE_URL", None)
        process = subprocess.Popen([BIN, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def test_email_batch_preview_process_status_and_undo(browser, worker, tmp_path):
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    browser.find_element(By.LINK_TEXT, "Student Email").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Student Email"

    students = api(browser, "/api/v1/students?limit=6")["items"]
    tag = os.urandom(3).hex()  # new addresses on every run
    rows = ["loginId,userEmail"]
    for s in students[:4]:
        rows.append(f"{s['loginId']},{s['loginId']}.{tag}@harbour.example")
    rows.append(f"{students[4]['loginId']},no-at-sign.example")  # invalid address
    rows.append("nobody999,nobody@harbour.example")  # unknown student
    csv = tmp_path / "emails.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")

    shot(browser, "20-emails-upload-page")
    browser.find_element(By.ID, "file").send_keys(str(csv))
    browser.find_element(By.CSS_SELECTOR, "form.upload-form button[type=submit]").click()
    WebDriverWait(browser, 15).until(EC.url_contains("/uploads/"))
    batch_id = browser.current_url.rstrip("/").split("/")[-1]
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "4 to change" in body and "2 with errors" in body
    assert f"{students[0]['loginId']}.{tag}@harbour.example" in body  # old → new shown
    assert "it has no @" in body
    assert "no student in your schools has loginId \"nobody999\"" in body
    shot(browser, "21-emails-preview")

    # Process without ticking the confirmation is not possible (the box is required); tick it and process.
    browser.find_element(By.CSS_SELECTOR, "input[name=confirm]").click()
    browser.find_element(By.CSS_SELECTOR, "form.confirm button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=batch-queued"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-live-batch]").get_attribute("data-status") == "queued"
    assert "The batch is queued" in browser.find_element(By.CSS_SELECTOR, ".notice").text

    # Upload Status: the batch waits in the queue …
    browser.find_element(By.LINK_TEXT, "Upload Status").click()
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-batch='{batch_id}']")
    assert row.find_element(By.CSS_SELECTOR, "[data-field=status]").text == "Queued"
    browser.execute_script("window.__notReloaded = true")
    shot(browser, "22-upload-status-queued")

    # … a worker starts, and the same page (no reload) shows it completed.
    worker()
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-batch='{batch_id}'] [data-field=status]").text
        == "Completed with errors")
    assert browser.execute_script("return window.__notReloaded === true"), "the page must update itself, not reload"
    assert "4 changed" in browser.find_element(By.CSS_SELECTOR, f"tr[data-batch='{batch_id}'] [data-field=summary]").text
    shot(browser, "23-upload-status-completed")

    student = api(browser, f"/api/v1/students/{students[0]['userId']}")["person"]
    assert student["userEmail"] == f"{students[0]['loginId']}.{tag}@harbour.example"

    # The report, then undo.
    browser.get(f"{BASE}/uploads/{batch_id}")
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=status]").text == "Completed with errors"
    shot(browser, "24-batch-report")
    # Undo asks to be confirmed, as Process does: without the tick the browser does not send it.
    browser.find_element(By.XPATH, "//button[normalize-space()='Undo this batch']").click()
    assert "done=" not in browser.current_url
    browser.find_element(By.ID, "undo-confirm").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Undo this batch']").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=batch-undo-queued"))
    # The page follows the undo and shows the result by itself.
    WebDriverWait(browser, 60, ignored_exceptions=(Exception,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-live-batch]").get_attribute("data-status") == "undone")
    shot(browser, "25-batch-undone")
    student = api(browser, f"/api/v1/students/{students[0]['userId']}")["person"]
    assert student.get("userEmail") == students[0].get("userEmail")
