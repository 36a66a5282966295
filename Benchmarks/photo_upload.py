"""The photo benchmark's HTTP part (make bench): a real `schoolbatch serve` (SCHOOLBATCH_BIN, the release build) on
a fresh SQLite demo district with two in-process workers. Per run, the 200 photos of the folder given are named
after 200 students' login IDs (other students each run, so every photo is a change) and PUT three at a time, as
the upload page does; the preview is ready when the last upload has been answered (each answer comes after the
file is inspected, stored and planned). Then Process (submit) and wait for `completed`. The server's resident memory
is sampled every 20 ms during the upload. The last line printed is JSON."""
import http.client
import json
import pathlib
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Tests" / "load"))
import loadkit  # noqa: E402

folder = pathlib.Path(sys.argv[1])
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
photos = [p.read_bytes() for p in sorted(folder.glob("*.jpg"))]

with tempfile.TemporaryDirectory() as work:
    work = pathlib.Path(work)
    loadkit.run_cli("demo", "--data-dir", str(work / "data"))
    server = loadkit.Server(work / "data", work / "server.log", workers=2)
    server.start()
    try:
        conn = server.connection()
        status, page = loadkit.request_json(conn, "GET", "/api/v1/students?limit=500", headers=server.auth())
        students = [s["loginId"] for s in page["items"] if s.get("loginId")]
        status, more = loadkit.request_json(conn, "GET", "/api/v1/students?limit=500&offset=500", headers=server.auth())
        students += [s["loginId"] for s in more["items"] if s.get("loginId")]
        assert len(students) >= runs * len(photos), f"the demo has {len(students)} students with a login ID"
        results = []
        for run in range(runs):
            names = students[run * len(photos):(run + 1) * len(photos)]
            status, batch = loadkit.request_json(conn, "POST", "/api/v1/batches", {"kind": "photos"}, server.auth())
            assert status == 201, batch
            before = server.rss_kb()
            peak = [before]
            sampling = threading.Event()

            def sample():
                while not sampling.is_set():
                    peak[0] = max(peak[0], server.rss_kb())
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            queue = list(zip(names, photos))
            lock = threading.Lock()
            failures = []

            def upload():
                c = server.connection()
                while True:
                    with lock:
                        if not queue:
                            break
                        name, data = queue.pop(0)
                    c.request("PUT", f"/api/v1/batches/{batch['id']}/files/{name}.jpg", body=data,
                              headers=server.auth(**{"Content-Type": "image/jpeg"}))
                    response = c.getresponse()
                    response.read()
                    if response.status != 201:
                        failures.append((name, response.status))
                c.close()

            start = time.perf_counter()
            threads = [threading.Thread(target=upload) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            preview = time.perf_counter() - start
            sampling.set()
            sampler.join()
            assert not failures, failures
            status, state = loadkit.request_json(conn, "GET", f"/api/v1/batches/{batch['id']}", headers=server.auth())
            assert state["counts"]["ready"] == len(photos), state["counts"]
            start = time.perf_counter()
            status, body = loadkit.request_json(conn, "POST", f"/api/v1/batches/{batch['id']}/submit",
                                                {"confirm": True, "allowMassChanges": True}, server.auth())
            assert status == 202, body
            while True:
                status, state = loadkit.request_json(conn, "GET", f"/api/v1/batches/{batch['id']}", headers=server.auth())
                if state["status"] not in ("queued", "processing"):
                    break
                time.sleep(0.05)
            apply = time.perf_counter() - start
            assert state["status"] == "completed", state
            results.append({"preview": preview, "apply": apply, "rssBeforeKB": before, "rssPeakKB": peak[0],
                            "rssGrowthKB": peak[0] - before})
            print(f"run {run + 1}: preview {preview:.2f} s, apply {apply:.2f} s, memory +{(peak[0] - before) / 1024:.0f} MB",
                  file=sys.stderr)
    finally:
        server.stop()
print(json.dumps({"runs": results}))
