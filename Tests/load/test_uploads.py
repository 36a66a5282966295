"""Upload limits and load against a real `schoolbatch serve` process (standard library + pytest only).

1. A 500 MB body sent to an e-mail batch (limit 20 MiB) is refused with 413 `too_large` within the first limit's
   worth of bytes (declared Content-Length, chunked, and curl with a sparse 500 MB file), the server's memory does
   not grow, and nothing of it is kept.
2. N uploads of 2 MiB (env SCHOOLBATCH_LOAD_UPLOADS, default 1000) per phase: curl one after another, curl 20 at a
   time (curl keeps its default `Expect: 100-continue`), a browser-like multipart client one after another and
   20 at a time. Every upload answers 201 with the SHA-256 of what was sent, every stored file hashes to its key,
   the server stays up, memory stays flat, and no upload takes 1 s or more (curl's 100-continue stall).

`make test` runs only test 1 (against the debug build); `make loadtest` runs both against the release build, since
test 2 judges time and a debug build on 2 cores is CPU-bound (figures in docs/benchmarks.md).

Run:  SCHOOLBATCH_BIN=.build/release/schoolbatch SCHOOLBATCH_LOAD_UPLOADS=40 python3 -m pytest -x -q -s Tests/load
Env:  SCHOOLBATCH_BIN (default .build/debug/schoolbatch), SCHOOLBATCH_LOAD_REPORT (write the summary as JSON).
"""
import concurrent.futures
import json
import os
import pathlib
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import loadkit
from loadkit import EMAIL_LIMIT, MiB

BIG = 500 * MiB  # 524,288,000 bytes
BLOCK = 64 * 1024
SOCKET_ALLOWANCE = 8 * MiB  # bytes a client can have in flight in socket buffers when the answer arrives
RSS_GROWTH_LIMIT_KB_LIMIT_TEST = 10 * 1024
RSS_GROWTH_LIMIT_KB_LOAD_TEST = 64 * 1024
STALL_SECONDS = 1.0
FILE_SIZE = 2 * MiB
PARALLEL = 20
WARM_UP = 50


@pytest.fixture(scope="session")
def work_dir():
    if not loadkit.BINARY.exists():
        pytest.fail(f"{loadkit.BINARY} is missing: build it first (swift build)")
    if shutil.which("curl") is None:
        pytest.fail("curl is needed")
    path = pathlib.Path(tempfile.mkdtemp(prefix="schoolbatch-load-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server(request, work_dir):
    log_dir = pathlib.Path(tempfile.mkdtemp(prefix="schoolbatch-load-log-"))
    server = loadkit.Server(work_dir / "data", log_dir / "server.log")
    server.start()
    print(f"\nserver pid {server.process.pid} on {server.base}, data {server.data_dir}, log {server.log_path}")
    yield server
    alive = server.alive()
    server.stop()
    if request.session.testsfailed or not alive:
        print(f"\n--- server log (kept at {server.log_path}; server {'running' if alive else 'EXITED'}) ---")
        print(server.log_tail(80))
    else:
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def report():
    data = {}
    yield data
    path = os.environ.get("SCHOOLBATCH_LOAD_REPORT")
    if path:
        pathlib.Path(path).write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nreport written to {path}")


# ---------------------------------------------------------------------------------------------------------------
# 1. The limit is enforced while the body streams in


def stream_oversized(server, batch_id, chunked):
    """Sends the head of a 500 MB PUT, then the body in 64 KiB blocks, checking before every send whether the server
    has answered; stops at the answer. Never holds more than one block in memory."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small send buffer (set before connecting) keeps "bytes sent" close to "bytes the server has read".
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 256 * 1024)
    sock.connect((server.host, server.port))
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BIG}"
    head = (
        f"PUT /api/v1/batches/{batch_id}/files/big.csv HTTP/1.1\r\n"
        f"Host: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        "Content-Type: text/csv\r\n"
        f"{framing}\r\n\r\n"
    ).encode()
    sock.sendall(head)
    block = os.urandom(BLOCK // 2).hex().encode()  # 64 KiB of text, reused for every block
    frame = (f"{BLOCK:x}\r\n".encode() + block + b"\r\n") if chunked else block
    sock.setblocking(False)
    payload_sent = 0  # body bytes handed to the kernel (chunk framing excluded)
    pending = b""
    pending_payload = 0
    answered = False
    send_error = None
    started = time.monotonic()
    last_progress = started
    while payload_sent < BIG or pending:
        readable, writable, _ = select.select([sock], [sock], [], 5.0)
        if readable:
            answered = True
            break
        if not writable:
            if time.monotonic() - last_progress > 60:
                raise AssertionError(f"the server neither read nor answered for 60 s after {payload_sent} bytes")
            continue
        if not pending:
            pending, pending_payload = frame, BLOCK
        try:
            n = sock.send(pending)
        except BlockingIOError:
            continue
        except OSError as error:  # the server closed the connection
            send_error = error
            break
        last_progress = time.monotonic()
        # Count payload bytes in proportion to the frame bytes accepted.
        done_payload = pending_payload * n // len(pending) if chunked else n
        payload_sent += done_payload
        pending_payload -= done_payload
        pending = pending[n:]
    if not answered and send_error is None and chunked:
        sock.setblocking(True)
        sock.sendall(b"0\r\n\r\n")
    sock.setblocking(True)
    try:
        status, headers, body = loadkit.read_http_response(sock, timeout=30)
    except OSError as error:
        raise AssertionError(
            f"no readable response after {payload_sent} bytes (send error: {send_error!r}): {error!r}"
        ) from error
    finally:
        sock.close()
    return {
        "mode": "chunked" if chunked else "content-length",
        "status": status,
        "body": json.loads(body) if body else None,
        "bytes_sent_before_answer": payload_sent,
        "seconds": round(time.monotonic() - started, 3),
        "answered_while_sending": answered,
        "send_error": repr(send_error) if send_error else None,
    }


def test_500_mb_upload_is_refused_within_the_limit_and_memory_stays_flat(server, work_dir, report):
    conn = server.connection()
    # Warm-up: the upload path has run once before the baseline is taken.
    warm = loadkit.create_email_batch(server, conn)
    data = loadkit.random_csv(FILE_SIZE)
    status, body = loadkit.request_json(conn, "PUT", f"/api/v1/batches/{warm}/files/warm.csv", data, server.auth())
    assert status == 201, body
    assert body["file"]["sha256"] == loadkit.sha256_hex(data)
    blobs_before = server.blob_files()
    rss_before = server.rss_kb()

    results = []
    batches = []
    for chunked in (False, True):
        batch = loadkit.create_email_batch(server, conn)
        batches.append(batch)
        result = stream_oversized(server, batch, chunked)
        results.append(result)
        print(f"\n{result['mode']}: {result}")
    rss_after_raw = server.rss_kb()

    big = work_dir / "big.csv"
    subprocess.run(["truncate", "-s", "500M", str(big)], check=True)
    batch = loadkit.create_email_batch(server, conn)
    batches.append(batch)
    curl = subprocess.run(
        [
            "curl", "-s", "-o", str(work_dir / "curl-413.json"), "-w", "%{http_code} %{size_upload} %{time_total}",
            "-T", str(big), "-H", f"Authorization: Bearer {server.token}", "--max-time", "120",
            f"{server.base}/api/v1/batches/{batch}/files/big.csv",
        ],
        capture_output=True, text=True,
    )
    big.unlink()
    curl_code, curl_uploaded, curl_seconds = curl.stdout.split()
    curl_body = json.loads((work_dir / "curl-413.json").read_text() or "null")
    rss_after_curl = server.memory_kb()
    print(f"curl -T sparse 500M: http {curl_code}, size_upload {int(float(curl_uploaded))} bytes, {curl_seconds} s")
    print(
        f"server VmRSS: before {rss_before} kB, after raw-socket refusals {rss_after_raw} kB "
        f"(+{rss_after_raw - rss_before}), after curl {rss_after_curl['VmRSS']} kB "
        f"(+{rss_after_curl['VmRSS'] - rss_before}); VmHWM {rss_after_curl['VmHWM']} kB"
    )
    report["limit"] = {
        "raw": results,
        "curl": {"http_code": int(curl_code), "size_upload": int(float(curl_uploaded)), "seconds": float(curl_seconds)},
        "rss_kb": {"before": rss_before, "after_raw": rss_after_raw, "after_curl": rss_after_curl["VmRSS"]},
    }

    for result in results:
        assert result["status"] == 413, result
        assert result["body"]["error"]["code"] == "too_large", result
        assert result["bytes_sent_before_answer"] <= EMAIL_LIMIT + SOCKET_ALLOWANCE, result
    assert curl_code == "413", (curl.stdout, curl.stderr, curl_body)
    assert curl_body["error"]["code"] == "too_large", curl_body
    assert float(curl_uploaded) <= EMAIL_LIMIT + SOCKET_ALLOWANCE, f"curl uploaded {curl_uploaded} bytes"
    assert rss_after_raw - rss_before <= RSS_GROWTH_LIMIT_KB_LIMIT_TEST
    assert rss_after_curl["VmRSS"] - rss_before <= RSS_GROWTH_LIMIT_KB_LIMIT_TEST

    # Nothing of the refused uploads is kept.
    for batch in batches:
        status, files = loadkit.request_json(conn, "GET", f"/api/v1/batches/{batch}/files", headers=server.auth())
        assert (status, files) == (200, []), f"batch {batch}"
    assert server.incoming_files() == [], f"left over in {server.data_dir / 'incoming'}"
    assert server.blob_files() == blobs_before
    assert server.healthz() == 200
    conn.close()


# ---------------------------------------------------------------------------------------------------------------
# 2. Load: N uploads of 2 MiB per phase


class Phase:
    """Runs one upload function n times on `parallel` threads, each thread with its own keep-alive connection."""

    def __init__(self, server, client_dir, name):
        self.server = server
        self.client_dir = client_dir
        self.name = name
        self._local = threading.local()
        self._connections = []
        self._lock = threading.Lock()

    def conn(self):
        if not hasattr(self._local, "conn"):
            self._local.conn = self.server.connection()
            with self._lock:
                self._connections.append(self._local.conn)
        return self._local.conn

    def run(self, upload, n, parallel):
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            records = list(pool.map(lambda i: self._guarded(upload, i), range(n)))
        for conn in self._connections:
            conn.close()
        return records, time.monotonic() - started

    def _guarded(self, upload, i):
        try:
            return upload(self, i)
        except Exception as error:  # recorded, so one failure does not hide the rest of the phase
            return {"i": i, "ok": False, "problem": f"{type(error).__name__}: {error}"}


def check_result(record, file_json, data, file_name):
    problems = []
    if file_json.get("sha256") != record["sha256"]:
        problems.append(f"sha256 {file_json.get('sha256')} != sent {record['sha256']}")
    if file_json.get("byteSize") != len(data):
        problems.append(f"byteSize {file_json.get('byteSize')} != sent {len(data)}")
    if file_json.get("fileName") != file_name:
        problems.append(f"fileName {file_json.get('fileName')!r} != {file_name!r}")
    if file_json.get("items") != 2:
        problems.append(f"items {file_json.get('items')} != 2 rows")
    return problems


def curl_upload(phase, i):
    server = phase.server
    batch = loadkit.create_email_batch(server, phase.conn())
    data = loadkit.random_csv(FILE_SIZE)
    file_name = f"{phase.name}-{i}.csv"
    record = {"i": i, "batch": batch, "sha256": loadkit.sha256_hex(data), "size": len(data)}
    path = phase.client_dir / f"{batch}.csv"
    path.write_bytes(data)
    try:
        # curl's default Expect: 100-continue stays on (no `-H Expect:`).
        done = subprocess.run(
            [
                "curl", "-sS", "--max-time", "120", "-T", str(path), "-H", f"Authorization: Bearer {server.token}",
                "-w", "\n%{http_code} %{time_total} %{time_pretransfer} %{time_starttransfer} %{size_upload}",
                f"{server.base}/api/v1/batches/{batch}/files/{file_name}",
            ],
            capture_output=True,
        )
    finally:
        path.unlink()
    body, _, metrics = done.stdout.rpartition(b"\n")
    try:
        code, total, pretransfer, starttransfer, uploaded = metrics.split()
    except ValueError:
        return {**record, "ok": False, "problem": f"curl exit {done.returncode}: {done.stderr.decode()!r}"}
    record.update(
        status=int(code), seconds=float(total), pretransfer=float(pretransfer), starttransfer=float(starttransfer),
        uploaded=int(float(uploaded)),
    )
    if record["status"] != 201:
        return {**record, "ok": False, "problem": f"HTTP {code}: {body[:500].decode(errors='replace')}"}
    problems = check_result(record, json.loads(body)["file"], data, file_name)
    return {**record, "ok": not problems, "problem": "; ".join(problems) or None}


def browser_upload(phase, i):
    server = phase.server
    conn = phase.conn()
    batch = loadkit.create_email_batch(server, conn)
    data = loadkit.random_csv(FILE_SIZE)
    file_name = f"{phase.name}-{i}.csv"
    record = {"i": i, "batch": batch, "sha256": loadkit.sha256_hex(data), "size": len(data)}
    content_type, body = loadkit.multipart("files", file_name, data)
    headers = server.auth(
        **{
            "User-Agent": loadkit.BROWSER_UA,
            "Origin": server.base,
            "Referer": f"{server.base}/uploads/{batch}",
            "Accept": "application/json",
            "Accept-Language": "en-US,en;q=0.9",
            "Content-Type": content_type,
            "Connection": "keep-alive",
        }
    )  # no Expect header: browsers never send one
    started = time.perf_counter()
    status, answer = loadkit.request_json(conn, "POST", f"/api/v1/batches/{batch}/files", body, headers)
    record.update(status=status, seconds=time.perf_counter() - started)
    if status != 201:
        return {**record, "ok": False, "problem": f"HTTP {status}: {str(answer)[:500]}"}
    if not isinstance(answer, list) or len(answer) != 1:
        return {**record, "ok": False, "problem": f"expected a one-element array, got {str(answer)[:300]}"}
    problems = check_result(record, answer[0]["file"], data, file_name)
    return {**record, "ok": not problems, "problem": "; ".join(problems) or None}


def verify_blobs(server, records):
    """Every stored file is on disk under its key, with the right size, and hashes to its key."""
    problems = []
    for record in records:
        if not record.get("ok"):
            continue
        path = server.blob_path(record["sha256"])
        if not path.is_file():
            problems.append(f"upload {record['i']}: {path} missing")
        elif path.stat().st_size != record["size"] or loadkit.sha256_file(path) != record["sha256"]:
            problems.append(f"upload {record['i']}: {path} does not hash to its key")
    return problems


def check_curl_sends_expect_100_continue(server, client_dir):
    """One verbose curl upload: proves the curl phases really exercise `Expect: 100-continue`."""
    conn = server.connection()
    batch = loadkit.create_email_batch(server, conn)
    conn.close()
    path = client_dir / "verbose.csv"
    path.write_bytes(loadkit.random_csv(FILE_SIZE))
    done = subprocess.run(
        [
            "curl", "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-T", str(path),
            "-H", f"Authorization: Bearer {server.token}", f"{server.base}/api/v1/batches/{batch}/files/verbose.csv",
        ],
        capture_output=True, text=True,
    )
    path.unlink()
    trace = done.stderr
    assert "> Expect: 100-continue" in trace, trace
    assert "< HTTP/1.1 100 Continue" in trace, trace
    print(f"verbose curl: Expect: 100-continue sent, 100 Continue received; {done.stdout}")


def test_load_2_mb_uploads_sequential_and_parallel_curl_and_browser(server, work_dir, report):
    n = int(os.environ.get("SCHOOLBATCH_LOAD_UPLOADS", "1000"))
    free = loadkit.disk_free(work_dir)
    needed = (4 * n + WARM_UP) * FILE_SIZE
    if free < max(12 * 10**9, needed * 3 // 2):
        scaled = max(PARALLEL, int(free * 2 // 3 // FILE_SIZE - WARM_UP) // 4)
        if scaled < n:
            print(f"\nNOTE: only {free / 1e9:.1f} GB free in {work_dir}; scaling uploads per phase from {n} to {scaled}")
            n = scaled
    client_dir = work_dir / "client"
    client_dir.mkdir(exist_ok=True)
    print(f"\n{n} uploads of {FILE_SIZE} bytes per phase; {free / 1e9:.1f} GB free")

    check_curl_sends_expect_100_continue(server, client_dir)

    phases = [
        ("warm-up curl x20", curl_upload, WARM_UP // 2, PARALLEL),
        ("warm-up browser x20", browser_upload, WARM_UP - WARM_UP // 2, PARALLEL),
        ("A curl sequential", curl_upload, n, 1),
        ("B curl 20 parallel", curl_upload, n, PARALLEL),
        ("C browser sequential", browser_upload, n, 1),
        ("D browser 20 parallel", browser_upload, n, PARALLEL),
    ]
    summary = []
    all_records = []
    rss_warm = None
    for name, upload, count, parallel in phases:
        phase = Phase(server, client_dir, name.split()[0] + "-" + name.split()[1])
        records, elapsed = phase.run(upload, count, parallel)
        all_records.extend(records)
        problems = [f"upload {r['i']}: {r['problem']}" for r in records if not r.get("ok")]
        problems += verify_blobs(server, records)
        leftovers = server.incoming_files()
        if leftovers:
            problems.append(f"{len(leftovers)} files left in incoming/: {leftovers[:5]}")
        times = [r["seconds"] for r in records if "seconds" in r]
        slow = sorted((r for r in records if r.get("seconds", 0) >= STALL_SECONDS), key=lambda r: -r["seconds"])
        # curl's time_starttransfer includes its wait for `100 Continue`: a gap of ~1 s is the stall itself.
        stalls = [r for r in records if "pretransfer" in r and r["starttransfer"] - r["pretransfer"] >= 0.9]
        health = server.healthz()
        memory = server.memory_kb() if server.alive() else {"VmRSS": None, "VmHWM": None}
        if name.startswith("warm-up"):
            rss_warm = memory["VmRSS"]
        row = {
            "phase": name,
            "parallel": parallel,
            **loadkit.stats(times),
            "ok": sum(1 for r in records if r.get("ok")),
            "failed": len(problems),
            "over_1s": len(slow),
            "curl_100_continue_stalls": len(stalls) if upload is curl_upload else None,
            "elapsed_s": round(elapsed, 1),
            "uploads_per_s": round(count / elapsed, 1),
            "rss_end_kb": memory["VmRSS"],
            "hwm_kb": memory["VmHWM"],
            "healthz": health,
            "problems": problems[:20],
            "slowest": [
                {k: r.get(k) for k in ("i", "seconds", "pretransfer", "starttransfer", "status")} for r in slow[:10]
            ],
        }
        summary.append(row)
        print(
            f"{name:24} n={row['count']:5} ok={row['ok']:5} median={row['median_s']}s p95={row['p95_s']}s "
            f"max={row['max_s']}s >=1s:{row['over_1s']} stalls:{row['curl_100_continue_stalls']} {row['uploads_per_s']}/s VmRSS={row['rss_end_kb']} kB "
            f"VmHWM={row['hwm_kb']} kB healthz={health}"
        )
        for problem in problems[:5]:
            print(f"    PROBLEM {problem}")
        for r in row["slowest"][:5]:
            print(f"    SLOW {r}")
        if health != 200 or not server.alive():
            break  # the server is down: later phases would only repeat that

    rss_end = max((row["rss_end_kb"] or 0) for row in summary if not row["phase"].startswith("warm-up")) if len(
        summary
    ) > 2 else None
    shas = [r["sha256"] for r in all_records if r.get("ok")]
    print()
    print(
        f"{'phase':24} {'n':>5} {'ok':>5} {'median s':>9} {'p95 s':>7} {'max s':>7} {'>=1s':>5} {'stalls':>6} "
        f"{'per s':>6} {'VmRSS kB':>9}"
    )
    for row in summary:
        print(
            f"{row['phase']:24} {row['count']:5} {row['ok']:5} {row['median_s']!s:>9} {row['p95_s']!s:>7} "
            f"{row['max_s']!s:>7} {row['over_1s']:5} {row['curl_100_continue_stalls']!s:>6} {row['uploads_per_s']:6} "
            f"{row['rss_end_kb']!s:>9}"
        )
    growth = (rss_end - rss_warm) if (rss_end is not None and rss_warm is not None) else None
    print(f"VmRSS after warm-up {rss_warm} kB, highest at a phase end {rss_end} kB, growth {growth} kB")
    report["load"] = {
        "uploads_per_phase": n,
        "file_bytes": FILE_SIZE,
        "phases": summary,
        "rss_kb": {"after_warm_up": rss_warm, "highest_phase_end": rss_end, "growth": growth},
        "distinct_files_stored": len(set(shas)),
    }

    assert len(summary) == len(phases), f"server went down during {summary[-1]['phase']}:\n{server.log_tail()}"
    for row in summary:
        assert row["healthz"] == 200, row
        assert row["failed"] == 0, f"{row['phase']}: {row['problems']}"
        assert row["over_1s"] == 0, f"{row['phase']}: uploads took >= {STALL_SECONDS} s: {row['slowest']}"
    assert len(set(shas)) == len(shas) == len(all_records)
    assert growth <= RSS_GROWTH_LIMIT_KB_LOAD_TEST, f"server memory grew by {growth} kB"
