"""Helpers for the upload load tests: a real `schoolbatch serve` process, HTTP over the standard library,
random CSV files, memory readings. Standard library only (no `requests`)."""
import base64
import hashlib
import http.client
import json
import math
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("SCHOOLBATCH_BIN", ROOT / ".build" / "debug" / "schoolbatch"))
MiB = 1024 * 1024
EMAIL_LIMIT = 20 * MiB  # the e-mail batch's per-file limit (EmailsHandler.limits.maxFileBytes)
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(workers=0):
    env = dict(os.environ)
    for name in ("DATABASE_URL", "SCHOOLBATCH_DATA_DIR"):  # always a throwaway SQLite database
        env.pop(name, None)
    env.update(SCHOOLBATCH_BCRYPT_COST="4", SCHOOLBATCH_WORKERS=str(workers), SCHOOLBATCH_RESOURCES=str(ROOT))
    return env


def run_cli(*args, stdin=None):
    done = subprocess.run(
        [str(BINARY), *args], input=stdin, capture_output=True, text=True, env=server_env(), cwd=ROOT, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"schoolbatch {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Server:
    """`schoolbatch serve` on a fresh data directory with one student-records account and its API token."""

    def __init__(self, data_dir, log_path, workers=0):
        self.workers = workers
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = pathlib.Path(log_path)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.process = None
        self.token = None

    @property
    def base(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        run_cli("migrate", "--data-dir", str(self.data_dir))
        run_cli(
            "admin", "create", "--data-dir", str(self.data_dir), "--username", "loader", "--role", "student-records",
            "--password-stdin", stdin="load-test-password-1\n",
        )
        out = run_cli("token", "create", "--data-dir", str(self.data_dir), "--username", "loader")
        self.token = out.strip().splitlines()[-1].strip()
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--data-dir", str(self.data_dir), "--port", str(self.port), "--hostname", self.host],
            stdout=self._log, stderr=subprocess.STDOUT, env=server_env(self.workers), cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.healthz() == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer /healthz within 60 s:\n{self.log_tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def healthz(self):
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            return None

    def log_tail(self, lines=60):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def memory_kb(self):
        """VmRSS and VmHWM (peak) of the server process, in kB."""
        fields = {}
        for line in pathlib.Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
        return fields

    def rss_kb(self):
        return self.memory_kb()["VmRSS"]

    def connection(self, timeout=120):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def auth(self, **extra):
        return {"Authorization": f"Bearer {self.token}", **extra}

    def blob_path(self, sha256):
        return self.data_dir / "files" / sha256[:2] / sha256[2:]

    def incoming_files(self):
        incoming = self.data_dir / "incoming"
        return sorted(p.name for p in incoming.iterdir()) if incoming.exists() else []

    def blob_files(self):
        files = self.data_dir / "files"
        return sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file() and p.parent.name != "tmp")


def request_json(conn, method, path, body=None, headers=None):
    """One request on a (keep-alive) http.client connection; returns (status, parsed JSON or raw text)."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode(errors="replace")


def create_email_batch(server, conn):
    status, body = request_json(conn, "POST", "/api/v1/batches", {"kind": "emails"}, server.auth())
    if status != 201:
        raise AssertionError(f"creating a batch answered {status}: {body}")
    return body["id"]


def random_csv(size=2 * MiB):
    """A valid e-mail CSV of exactly `size` bytes; the ignored `issues` cell holds random base64 text, so every
    file is different."""
    header = b"loginId,userEmail,issues\n"
    first = b"s1,s1@school.edu,"
    last = b"\ns2,s2@school.edu,x\n"
    filler = size - len(header) - len(first) - len(last)
    cell = base64.b64encode(os.urandom(filler * 3 // 4 + 3))[:filler]
    data = header + first + cell + last
    assert len(data) == size
    return data


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def multipart(field, file_name, data, content_type="text/csv"):
    """A multipart/form-data body shaped like a browser's (WebKit boundary)."""
    boundary = "----WebKitFormBoundary" + base64.b64encode(os.urandom(12)).decode().replace("+", "A").replace("/", "B")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", head + data + tail


def stats(values):
    if not values:
        return {"count": 0, "median_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "count": len(values),
        "median_s": round(statistics.median(ordered), 4),
        "p95_s": round(p95, 4),
        "max_s": round(ordered[-1], 4),
    }


def disk_free(path):
    return shutil.disk_usage(path).free


def read_http_response(sock, timeout=15):
    """Reads one HTTP/1.1 response (skipping 1xx) from a raw socket: (status, headers dict, body bytes)."""
    sock.settimeout(timeout)
    buffer = b""
    while True:
        while b"\r\n\r\n" not in buffer:
            piece = sock.recv(65536)
            if not piece:
                raise ConnectionError(f"connection closed before a full response head; got {buffer[:300]!r}")
            buffer += piece
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            continue
        break
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while not buffer.endswith(b"0\r\n\r\n"):
            piece = sock.recv(65536)
            if not piece:
                break
            buffer += piece
        body = b""
        while buffer:
            size_line, _, buffer = buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            body, buffer = body + buffer[:size], buffer[size + 2 :]
        return status, headers, body
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        buffer += piece
    return status, headers, buffer[:length]
