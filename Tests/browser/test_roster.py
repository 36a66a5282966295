"""Drives a roster batch through the real pages in headless Chromium (issue 4, "Done when" 2): a users.csv with a
misspelled header fails with the suggestion; a file with some bad rows gives a preview with counts per entity and
every problem, and its error report downloads; Process, confirm, a worker applies it, and the report shows the
counts per entity.

Uses the demo district and the worker fixture of test_batches (the server runs without workers of its own).
"""
import csv
import io

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_batches import api, worker  # noqa: F401  (fixture)
from test_pages import BASE, PASSWORD, USER, browser, page_replaced, shot, sign_in  # noqa: F401  (fixture)


def fetch_text(driver, path):
    """GET a path with the browser's session; returns the body as text."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text()).then(done);", path)


def entity_counts(driver):
    """The preview's or report's table: entity → {created, updated, unchanged, removed, errors}."""
    result = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "table.entity-counts tbody tr"):
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        # (Written as the page writes numbers: "143,360".)
        result[row.get_attribute("data-entity")] = dict(
            zip(["created", "updated", "unchanged", "removed", "errors"], (int(cell.replace(",", "")) for cell in cells)))
    return result


def upload(driver, users_path, mode="add-update"):
    driver.get(BASE + "/roster")
    driver.find_element(By.ID, "users").send_keys(str(users_path))
    driver.find_element(By.CSS_SELECTOR, f"input[name=mode][value='{mode}']").click()
    driver.find_element(By.CSS_SELECTOR, "form.upload-form button[type=submit]").click()


def test_roster_misspelled_header_then_bad_rows_preview_error_report_process_and_report(browser, worker, tmp_path):
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    browser.find_element(By.LINK_TEXT, "Roster batch upload").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Roster Batch Upload"
    shot(browser, "60-roster-upload-page")

    school = api(browser, "/api/v1/schools")[0]["schoolId"]
    exported = fetch_text(browser, f"/api/v1/exports/users.csv?schoolId={school}&include=all")
    table = list(csv.reader(io.StringIO(exported)))
    header, rows = table[0], table[1:]
    assert header[:4] == ["action", "schoolId", "schoolName", "userId"]

    # 1. A misspelled header fails the whole file, naming the header and the nearest correct name.
    misspelled = tmp_path / "users.csv"
    misspelled.write_text(exported.replace("userEmail", "UserEmail", 1), encoding="utf-8")
    upload(browser, misspelled)
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    # The form's token is not left in the address bar (the upload carried it in its address).
    WebDriverWait(browser, 5).until(lambda d: "_csrf" not in d.current_url)
    assert browser.current_url.startswith(BASE + "/roster")
    assert "users.csv cannot be used, so nothing was uploaded" in alert
    assert '"UserEmail" — did you mean "userEmail"?' in alert
    shot(browser, "61-roster-misspelled-header")

    # 2. The school's own file with one student changed, one new student, and two bad rows.
    col = {name: i for i, name in enumerate(header)}
    students = [r for r in rows if r[col["userRole"]] == "student"]
    changed_id = students[0][col["userId"]]
    edited = []
    for r in rows:
        r = list(r)
        if r[col["userId"]] == changed_id:
            r[col["preferredFirstName"]] = "Bobby"
        edited.append(r)
    template = list(students[0])
    new = list(template)
    new[col["userId"]], new[col["loginId"]], new[col["firstName"]], new[col["lastName"]] = "9900001", "26newk1", "Kit", "New"
    new[col["preferredFirstName"]], new[col["userEmail"]] = "", ""
    sci = list(new)
    sci[col["userId"]], sci[col["loginId"]] = "1.23E+05", "26scik1"
    grade = list(new)
    grade[col["userId"]], grade[col["loginId"]], grade[col["userGrade"]] = "9900002", "26gradek1", "Year 5"
    edited += [new, sci, grade]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header] + edited)
    good = tmp_path / "users-edited.csv"
    good.write_text(out.getvalue(), encoding="utf-8")
    upload(browser, good)
    WebDriverWait(browser, 30).until(EC.url_contains("/uploads/"))
    batch_id = browser.current_url.rstrip("/").split("/")[-1]
    counts = entity_counts(browser)
    assert counts["students"]["created"] == 1
    assert counts["students"]["updated"] == 1
    assert counts["students"]["errors"] == 2
    assert counts["enrollments"]["created"] == 1
    assert counts["classes"]["created"] == 0 and counts["classes"]["unchanged"] > 0
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "What this batch will do" in body
    assert "scientific notation" in body
    assert "“Year 5” is not one of the district's grades" in body
    assert f"{changed_id} preferredFirstName:" in body and "→ Bobby" in body
    shot(browser, "62-roster-preview")

    report = fetch_text(browser, f"/api/v1/batches/{batch_id}/error-report")
    report_rows = list(csv.reader(io.StringIO(report)))
    assert report_rows[0] == header + ["rowNumber", "severity", "issues", "howToFix"]
    assert [r[col["userId"]] for r in report_rows[1:]] == ["1.23E+05", "9900002"]
    assert all(r[-3] == "error" for r in report_rows[1:])
    link = browser.find_element(By.LINK_TEXT, "Download users-errors.csv")
    assert link.get_attribute("href").endswith(f"/api/v1/batches/{batch_id}/error-report")

    # Only the rows that change people.
    Select(browser.find_element(By.ID, "show")).select_by_value("person")
    before = browser.find_element(By.CSS_SELECTOR, "table.items")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    # The filtered page replaces this one: read it only once it has (reading earlier saw the old page go stale).
    WebDriverWait(browser, 10).until(page_replaced(before))
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.items")))
    listed = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table.items td.student")]
    assert len(listed) == 2 and any(changed_id in text for text in listed) and any("9900001" in text for text in listed)
    shot(browser, "63-roster-preview-people-only")

    # 3. Process (the confirmation is required), a worker applies it, the report shows what was done.
    browser.get(BASE + f"/uploads/{batch_id}")
    assert "Process will create" in browser.find_element(By.CSS_SELECTOR, "form.confirm").text
    browser.find_element(By.CSS_SELECTOR, "input[name=confirm]").click()
    browser.find_element(By.CSS_SELECTOR, "form.confirm button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=batch-queued"))
    worker()
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-live-batch]").get_attribute("data-status") == "completed_with_errors")
    browser.get(BASE + f"/uploads/{batch_id}")
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "What this batch did" in body
    done = entity_counts(browser)
    assert done["students"]["created"] == 1 and done["students"]["updated"] == 1 and done["students"]["errors"] == 2
    assert "Undo this batch" in body
    shot(browser, "64-roster-report")
    student = api(browser, "/api/v1/students/9900001")
    assert student["person"]["lastName"] == "New" and student["person"]["loginId"] == "26newk1"
    assert len(student["classes"]) == 1
