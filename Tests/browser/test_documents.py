"""Drives a document batch through the real pages in headless Chromium: 10 PDFs chosen on the upload page (one
whose name matches no student), the preview with the student picker, a match by hand, Process with confirmation,
`completed` on the batch page by itself, and the document downloaded from the student's page.
"""
import os

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from test_batches import api, worker  # noqa: F401  (fixture)
from test_pages import BASE, PASSWORD, USER, browser, shot, sign_in  # noqa: F401  (fixture)


def pdf(text):
    """A small valid one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def fetch_head(driver, path):
    """GET a path with the browser's session: status, the headers that matter, and the first bytes."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(async r => done({status: r.status, disposition: r.headers.get('content-disposition'),"
        " nosniff: r.headers.get('x-content-type-options'), type: r.headers.get('content-type'),"
        " head: new TextDecoder('latin1').decode((await r.arrayBuffer()).slice(0, 8))}));", path)


def test_document_batch_with_a_match_by_hand_completes_and_downloads(browser, worker, tmp_path):  # noqa: F811
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    browser.find_element(By.LINK_TEXT, "Student Assessment Documents").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Student Assessment Documents"

    students = api(browser, "/api/v1/students?limit=10&offset=20")["items"]
    assert len(students) == 10
    tag = os.urandom(3).hex()
    names = []
    for index, s in enumerate(students[:9]):
        name = [f"{s['loginId']}.pdf", f"{s['loginId']}_T1.pdf", f"{s['loginId']} - report.pdf"][index % 3]
        (tmp_path / name).write_bytes(pdf(f"Report {tag} for {s['loginId']}"))
        names.append(name)
    stranger = students[9]
    unmatched = f"report-{tag}-{stranger['lastName'].lower()}.pdf"  # a name that is no login ID
    (tmp_path / unmatched).write_bytes(pdf(f"Report {tag} for {stranger['loginId']}"))
    names.append(unmatched)

    browser.find_element(By.CSS_SELECTOR, "#documentType option[value='Report Card']").click()
    browser.find_element(By.ID, "term").send_keys(f"T{tag}")
    browser.find_element(By.ID, "files").send_keys("\n".join(str(tmp_path / n) for n in names))
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-file-list] li")) == 10)
    shot(browser, "30-documents-chosen")
    browser.find_element(By.CSS_SELECTOR, "form.documents-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(EC.url_contains("/uploads/"))
    batch_id = browser.current_url.rstrip("/").split("/")[-1]
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "9 to change · 1 unmatched" in body, body
    assert "1 file is not matched to a student yet" in body
    assert not browser.find_elements(By.CSS_SELECTOR, "form.confirm"), "Process waits until every file is matched or skipped"
    assert f"{unmatched}: no student in your schools has the login ID “report”" in body
    shot(browser, "31-documents-preview-unmatched")

    # The picker: type the student's last name, pick them from the list the page fills, match.
    field = browser.find_element(By.CSS_SELECTOR, "input[data-student-search]")
    field.send_keys(stranger["loginId"][:-1])
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('datalist option')].some(o => o.value === arguments[0])",
            stranger["userId"]))
    label = browser.execute_script(
        "return [...document.querySelectorAll('datalist option')].find(o => o.value === arguments[0]).label",
        stranger["userId"])
    assert stranger["loginId"] in label
    field.clear()
    field.send_keys(stranger["userId"])
    shot(browser, "32-documents-picker")
    field.find_element(By.XPATH, "following-sibling::button[normalize-space()='Match']").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=item-matched"))
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "10 to change" in body and "unmatched" not in body.split("Files")[0]

    browser.find_element(By.CSS_SELECTOR, "input[name=confirm]").click()
    browser.find_element(By.CSS_SELECTOR, "form.confirm button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=batch-queued"))
    worker()  # the batch page follows the job and shows the report by itself
    WebDriverWait(browser, 60, ignored_exceptions=(Exception,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-live-batch]").get_attribute("data-status") == "completed")
    browser.get(f"{BASE}/uploads/{batch_id}")
    assert "10 changed" in browser.find_element(By.CSS_SELECTOR, "[data-field=summary]").text
    shot(browser, "33-documents-completed")

    # The student matched by hand has the document on their page, and it downloads as an attachment.
    browser.get(f"{BASE}/students/{stranger['userId']}")
    section = browser.find_element(By.XPATH, "//h2[text()='Documents']/..")
    assert unmatched in section.text and "Report Card" in section.text and f"T{tag}" in section.text
    shot(browser, "34-student-documents")
    link = section.find_element(By.LINK_TEXT, unmatched).get_attribute("href")
    got = fetch_head(browser, link)
    assert got["status"] == 200, got
    assert got["disposition"].startswith("attachment;"), got
    assert got["nosniff"] == "nosniff" and got["type"] == "application/pdf", got
    assert got["head"].startswith("%PDF-1.4"), got
