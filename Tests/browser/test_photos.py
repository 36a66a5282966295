"""Drives a student photo batch through the real pages in headless Chromium: 20 files dropped on the photos page
(valid portraits named after students' login IDs, one with a typo, one named after nobody, and invalid files), the
browser's pre-checks ("Will be skipped: …"), the preview with each student's current and new photo side by side,
a student picked from the suggestions and one from the search, Process with confirmation, Upload Status following
the batch to `completed`, and the new photo on the student's page.

The photos come from `schoolbatch photos generate` (SCHOOLBATCH_BIN): portraits of 600–960 × 750–1200 px, some
sideways with EXIF orientation 6, some with GPS; `--invalid` adds one bad file of each kind.
"""
import base64
import json
import os
import pathlib
import subprocess
import zipfile

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_batches import BIN, api, worker  # noqa: F401  (fixture)
from test_pages import BASE, PASSWORD, USER, browser, page_replaced, shot, sign_in  # noqa: F401  (fixture)

# The invalid files the browser leaves out, and the words of the reason it gives.
INVALID = {
    "really-a-png.jpg": "it is a PNG image, not a JPEG photo",
    "really-a-heic.jpg": "it is a HEIC image (iPhone), not a JPEG photo",
    "narrow-479px.jpg": "it is 479 × 600 px as displayed",
    "tall-1201px.jpg": "it is 960 × 1201 px as displayed",
    # Its header is whole (600 × 750), but Chromium cannot decode the image data that is missing.
    "cut-short.jpg": "the browser cannot read it as a photo (damaged or incomplete?)",
}

# Drops files on the drop zone as the operating system would: a DataTransfer holding File objects.
DROP = """
const [zone, files] = arguments;
const transfer = new DataTransfer();
for (const f of files) {
  const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
  transfer.items.add(new File([bytes], f.name, {type: "image/jpeg", lastModified: Date.now()}));
}
for (const type of ["dragenter", "dragover", "drop"])
  zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
"""


def generate(out, login_ids):
    subprocess.run([BIN, "photos", "generate", "--out", str(out), "--login-ids", ",".join(login_ids), "--invalid"],
                   check=True, stdout=subprocess.DEVNULL)


def row_of(driver, name):
    """The file's line in the upload page's list."""
    return driver.find_element(By.XPATH, f"//ul[@data-file-list]/li[span[@class='name' and text()='{name}']]")


def item_row(driver, name):
    """The file's row in the batch page's table (the first cell is the file name)."""
    return driver.find_element(By.XPATH, f"//table[contains(@class,'items')]//tr[td[1][normalize-space()='{name}']]")


def photos_loaded(driver, images):
    """Scrolls each image into view (they load lazily) and says whether all have been drawn."""
    return driver.execute_script(
        "return arguments[0].every(img => { img.scrollIntoView({block: 'nearest'});"
        " return img.complete && img.naturalWidth > 0; });", images)


def photo_versions(driver, user_ids):
    """The version of each student's current photo, from the API with the browser's session."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(arguments[0].map(id => fetch(`/api/v1/students/${encodeURIComponent(id)}`,"
        " {headers: {Accept: 'application/json'}}).then(r => r.json())))"
        ".then(all => done(Object.fromEntries(all.map(s => [s.person.userId, s.photo && s.photo.version]))));", user_ids)


def test_photo_batch_dropped_checked_previewed_matched_and_completed(browser, worker, tmp_path):  # noqa: F811
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    browser.find_element(By.LINK_TEXT, "Student Photo").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Student Photos"

    # Students of the demo district: most have a photo already (replaced), some have none (added).
    # Only photos from the demo (version 1): the generator draws the same pictures on every run, and a photo
    # that is already the student's would be "unchanged" (a second run on the same data must still change them).
    students = [s for s in api(browser, "/api/v1/students?limit=300&offset=300")["items"] if s.get("loginId")]
    versions = photo_versions(browser, [s["userId"] for s in students if s.get("hasPhoto")])
    with_photo = [s for s in students if versions.get(s["userId"]) == 1]
    without_photo = [s for s in students if not s.get("hasPhoto")]
    assert len(with_photo) >= 11 and len(without_photo) >= 4, (len(with_photo), len(without_photo), versions)
    matched = with_photo[:10] + without_photo[:3]  # 13 files named exactly after a login ID
    typo_student = with_photo[10]  # a file whose name has one letter too many: the page suggests the student
    typo = typo_student["loginId"] + "x"
    stranger = without_photo[3]  # a file named after nobody: the student is found with the search
    unknown = "zz-unknown-student"

    generate(tmp_path, [s["loginId"] for s in matched] + [typo, unknown])
    valid = [f"{s['loginId']}.jpg" for s in matched] + [f"{typo}.jpg", f"{unknown}.jpg"]
    names = valid + list(INVALID)
    assert len(names) == 20
    files = [{"name": n, "data": base64.b64encode((tmp_path / n).read_bytes()).decode()} for n in names]

    # 1. Dropped on the page: every file listed with its size, the bad ones with the reason they are left out.
    zone = browser.find_element(By.CSS_SELECTOR, "[data-dropzone]")
    browser.execute_script(DROP, zone, files)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-file-list] li")) == 20)
    for name, reason in INVALID.items():
        note = row_of(browser, name).text
        assert f"Will be skipped: {reason}" in note, note
    for name in valid:
        assert "Will be skipped" not in row_of(browser, name).text, name
    tally = browser.find_element(By.CSS_SELECTOR, ".file-tally").text
    assert tally == "15 photos will be uploaded · 5 files will be skipped (listed first).", tally
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-file-list] li")
    assert [r.get_attribute("class") for r in rows] == ["skipped"] * 5 + [""] * 15
    assert browser.execute_script("return arguments[0].files.length", browser.find_element(By.ID, "files")) == 20
    shot(browser, "photos-1-chosen")

    # Upload: a few files at a time with per-file progress, then the preview opens.
    browser.find_element(By.CSS_SELECTOR, "form.photos-form button[type=submit]").click()
    WebDriverWait(browser, 60).until(EC.url_matches(r"/uploads/[^/?#]+$"))
    batch_id = browser.current_url.rstrip("/").split("/")[-1]

    # 2. The preview: 15 files (the 5 left out never left the browser), two of them unmatched, Process waits.
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "15 in all" in body, body
    summary = browser.find_element(By.CSS_SELECTOR, "[data-field=summary]").text
    assert summary == "13 to change · 2 unmatched", summary
    assert "2 files are not matched to a student yet" in body
    assert not browser.find_elements(By.CSS_SELECTOR, "form.confirm"), "Process waits until every file is matched or skipped"
    assert f"{typo}.jpg: no student in your schools has the login ID “{typo}”" in body
    assert f"{unknown}.jpg: no student in your schools has the login ID “{unknown}”" in body

    # Old and new side by side for every matched file; both images really load.
    for s in matched:
        row = item_row(browser, f"{s['loginId']}.jpg")
        assert s["loginId"] in row.text and "Will change" in row.text, row.text
        figures = row.find_elements(By.CSS_SELECTOR, ".photo-pair figure")
        assert [f.find_element(By.TAG_NAME, "figcaption").text.split()[0] for f in figures] == ["Now", "New"]
        if s.get("hasPhoto"):
            assert len(row.find_elements(By.CSS_SELECTOR, ".photo-pair img")) == 2
        else:
            assert figures[0].find_element(By.CSS_SELECTOR, ".nophoto").text == "No photo yet"
    images = browser.find_elements(By.CSS_SELECTOR, ".photo-pair img")
    assert len(images) == 10 * 2 + 3 + 2  # the unmatched files show what was uploaded
    WebDriverWait(browser, 20).until(lambda d: photos_loaded(d, images))
    # Sideways photos (EXIF orientation 6) are shown upright: every new thumbnail is a portrait.
    for image in browser.find_elements(By.CSS_SELECTOR, ".photo-pair figure:last-child img"):
        size = browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image)
        assert size[1] > size[0], (image.get_attribute("alt"), size)
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "photos-2-preview")

    # The unmatched files on their own: the uploaded photo, and no student to compare with yet.
    browser.find_element(By.LINK_TEXT, "Show only these files").click()
    WebDriverWait(browser, 10).until(EC.url_contains("state=unmatched"))
    assert "2 in all" in browser.find_element(By.TAG_NAME, "main").text
    for name in (f"{typo}.jpg", f"{unknown}.jpg"):
        row = item_row(browser, name)
        assert "Not matched" in row.text or "Unmatched" in row.text, row.text
        assert row.find_element(By.CSS_SELECTOR, ".photo-pair .nophoto").text == "Choose the student"
    shot(browser, "photos-2b-unmatched")

    # 3. The typo: the page suggests the student whose login ID is closest; one click matches the file.
    row = item_row(browser, f"{typo}.jpg")
    suggestion = row.find_element(By.XPATH, f".//div[@class='suggestions']//button[starts-with(normalize-space(), '{typo_student['loginId']} ·')]")
    suggestion.click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=item-matched"))
    assert "1 file is not matched to a student yet" in browser.find_element(By.TAG_NAME, "main").text

    # The file named after nobody: search by login ID, pick the student from the list, match.
    row = item_row(browser, f"{unknown}.jpg")
    assert not row.find_elements(By.CSS_SELECTOR, ".suggestions")
    field = row.find_element(By.CSS_SELECTOR, "input[data-student-search]")
    field.send_keys(stranger["loginId"])
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script(
            "return [...arguments[0].list.options].some(o => o.value === arguments[1])", field, stranger["userId"]))
    field.clear()
    field.send_keys(stranger["userId"])
    field.find_element(By.XPATH, "following-sibling::button[normalize-space()='Match']").click()
    # The address already says done=item-matched (the first match): wait for the new page itself.
    WebDriverWait(browser, 10).until(page_replaced(field))
    WebDriverWait(browser, 10).until(EC.url_contains("done=item-matched"))

    # Every file matched: Process is offered with what it will do in words.
    body = browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=summary]").text == "15 to change"
    assert "not matched to a student yet" not in body
    replaced, added = 11, 4
    assert (f"{replaced} photos will replace a student's current photo (the old one is kept as an earlier version) "
            f"and {added} will be added for students who have none.") in body, body
    for name, student in ((f"{typo}.jpg", typo_student), (f"{unknown}.jpg", stranger)):
        row = item_row(browser, name)
        assert student["loginId"] in row.text and "Will change" in row.text, row.text
    assert item_row(browser, f"{typo}.jpg").find_elements(By.CSS_SELECTOR, ".photo-pair figure:first-child img")
    assert item_row(browser, f"{unknown}.jpg").find_elements(By.CSS_SELECTOR, ".photo-pair .nophoto")
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "photos-3-matched")

    # 4. Process without ticking the box is held back by the page; ticked, the batch is queued.
    button = browser.find_element(By.CSS_SELECTOR, "form.confirm button[type=submit]")
    confirm = browser.find_element(By.CSS_SELECTOR, "input[name=confirm]")
    button.click()
    assert "batch-queued" not in browser.current_url
    assert browser.execute_script("return arguments[0].validationMessage", confirm)  # "Please check this box…"
    confirm.click()
    button.click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=batch-queued"))
    shot(browser, "photos-4-queued")

    # Upload Status: the batch waits in the queue, then follows the worker to the end without a reload.
    browser.find_element(By.LINK_TEXT, "← Upload Status").click()
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/uploads"))
    status_row = browser.find_element(By.CSS_SELECTOR, f"tr[data-batch='{batch_id}']")
    assert status_row.get_attribute("data-status") == "queued"
    assert "Student photos" in status_row.text and "Queued" in status_row.text
    worker()
    WebDriverWait(browser, 90, ignored_exceptions=(Exception,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-batch='{batch_id}']").get_attribute("data-status")
        == "completed")
    status_row = browser.find_element(By.CSS_SELECTOR, f"tr[data-batch='{batch_id}']")
    assert "Completed" in status_row.text, status_row.text
    assert "15 changed" == status_row.find_element(By.CSS_SELECTOR, "[data-field=summary]").text, status_row.text
    shot(browser, "photos-5-status")

    # The batch's report, and the new photo on the student's page (the one matched by hand from the search).
    browser.get(f"{BASE}/uploads/{batch_id}")
    assert browser.find_element(By.CSS_SELECTOR, "[data-field=summary]").text == "15 changed"
    # The report shows each replaced photo before and after the batch (the student's current photo is the new one).
    row = item_row(browser, f"{matched[0]['loginId']}.jpg")
    figures = row.find_elements(By.CSS_SELECTOR, ".photo-pair figure")
    assert [f.find_element(By.TAG_NAME, "figcaption").text.split()[0] for f in figures] == ["Before", "After"]
    before = figures[0].find_element(By.TAG_NAME, "img")
    assert "previous-photo" in before.get_attribute("src")
    WebDriverWait(browser, 10).until(lambda d: photos_loaded(d, [before]))
    added = item_row(browser, f"{without_photo[0]['loginId']}.jpg")
    assert added.find_element(By.CSS_SELECTOR, ".photo-pair .nophoto").text == "No photo before"
    assert f"{matched[0]['userId']}: replaces the current photo" in browser.find_element(By.TAG_NAME, "main").text
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "photos-6-report")
    browser.get(f"{BASE}/students/{stranger['userId']}")
    photo = browser.find_element(By.CSS_SELECTOR, "figure.photo img")
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", photo))
    detail = api(browser, f"/api/v1/students/{stranger['userId']}")
    assert detail["photo"] and detail["photo"]["height"] > detail["photo"]["width"], detail
    shot(browser, "photos-7-student")


def jpeg_size(data):
    """Width and height from a JPEG's SOF marker (no image library needed)."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[at + 7:at + 9], "big"), int.from_bytes(data[at + 5:at + 7], "big")
        at += 2 + length
    raise AssertionError("no SOF marker")


def test_photo_download_names_the_page_predicted_at_240_by_300(browser, worker, tmp_path):  # noqa: F811
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    browser.get(BASE + "/photos/download")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Download photos"
    form = browser.find_element(By.CSS_SELECTOR, "form[data-photo-download]")
    student = json.loads(form.get_attribute("data-example"))
    example = browser.find_element(By.CSS_SELECTOR, "[data-name-example]")
    # An empty pattern is {loginId}: the example says so before anything is typed.
    assert example.text == f"{student['loginId']}.jpg", example.text

    # The example student's class, the pattern, the small size: the example follows the typing.
    browser.find_element(By.CSS_SELECTOR, f"input[name='classIds[]'][value='{student['classId']}']").click()
    pattern = browser.find_element(By.ID, "namePattern")
    pattern.send_keys("{className}_{lastName}_{firstName}")
    predicted = example.text
    assert predicted == f"{student['className']}_{student['lastName']}_{student['firstName']}.jpg", predicted
    Select(browser.find_element(By.ID, "size")).select_by_value("240x300")
    assert not browser.find_element(By.CSS_SELECTOR, ".custom-size").is_displayed()
    shot(browser, "photos-8-download-form")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    # The download's page follows the job and offers the ZIP.
    WebDriverWait(browser, 10).until(EC.url_contains("done=export-queued"))
    worker()
    link = WebDriverWait(browser, 90, ignored_exceptions=(Exception,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "a[data-download]"))
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "Completed" in body and "At most 240 × 300 px" in body, body
    assert f"{{className}}_{{lastName}}_{{firstName}}.jpg" in body
    shot(browser, "photos-9-download-ready")

    # The ZIP, fetched with the browser's session: unzip -t accepts it; the predicted name is there; no photo is
    # larger than 240 × 300; index.csv and missing.csv are inside.
    data = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {"
        " let s = ''; const a = new Uint8Array(b); for (let i = 0; i < a.length; i += 8192)"
        " s += String.fromCharCode(...a.subarray(i, i + 8192)); done(btoa(s)); });", link.get_attribute("href"))
    archive_path = tmp_path / "photos.zip"
    archive_path.write_bytes(base64.b64decode(data))
    assert subprocess.run(["unzip", "-tq", str(archive_path)], capture_output=True).returncode == 0
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
        assert predicted in names, names
        assert "index.csv" in names and "missing.csv" in names
        photos = [n for n in names if n.endswith(".jpg")]
        assert photos and all(n.startswith(student["className"] + "_") for n in photos), photos
        for name in photos:
            width, height = jpeg_size(archive.read(name))
            assert width <= 240 and height <= 300, (name, width, height)
        index = archive.read("index.csv").decode()
        assert index.splitlines()[0].startswith("file,userId,loginId,firstName,lastName,class,grade")
        assert f"{predicted},{student['userId']},{student['loginId']}" in index

    # Upload Status lists the download with its link.
    browser.get(BASE + "/uploads")
    row = browser.find_element(By.XPATH, "//tr[td[2][normalize-space()='Photo download']]")
    assert "Completed" in row.text and row.find_element(By.LINK_TEXT, "Download ZIP")
    shot(browser, "photos-10-status-with-download")


def test_students_ticked_on_the_list_are_the_ones_downloaded(browser):  # noqa: F811
    browser.delete_all_cookies()
    sign_in(browser, USER, PASSWORD)
    WebDriverWait(browser, 10).until(EC.url_to_be(BASE + "/"))
    browser.get(BASE + "/students")
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name='userIds[]']")
    chosen = [b.get_attribute("value") for b in boxes[:2]]
    for box in boxes[:2]:
        box.click()
    shot(browser, "photos-11-students-ticked")
    browser.find_element(By.CSS_SELECTOR, "[data-choose-submit]").click()
    WebDriverWait(browser, 10).until(EC.url_contains("/photos/download"))
    listed = browser.find_elements(By.CSS_SELECTOR, ".chosen-students input[name='userIds[]']")
    assert [i.get_attribute("value") for i in listed] == chosen
    assert "Students chosen on the Students list (2)" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "input[name='schoolIds[]']"), "the groups give way to the chosen students"
    browser.find_element(By.CSS_SELECTOR, "form[data-photo-download] button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.url_contains("done=export-queued"))
    assert "2 chosen one by one" in browser.find_element(By.TAG_NAME, "main").text
