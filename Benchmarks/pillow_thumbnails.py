"""Pillow's thumbnails of the photo benchmark's files, for comparison (make bench): for each run, every file is
opened, `Image.draft` asks libjpeg for DCT-domain scaling, `thumbnail` fits a 240 x 300 box and the result is saved
as JPEG quality 85 in memory. The last line printed is JSON: the median seconds for all files and every sample."""
import io
import json
import pathlib
import statistics
import subprocess
import sys
import time

try:
    from PIL import Image
    import PIL
except ImportError:  # make bench installs it; here for a first run by hand
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "Pillow"], check=True)
    from PIL import Image
    import PIL

folder = pathlib.Path(sys.argv[1])
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
files = [p.read_bytes() for p in sorted(folder.glob("*.jpg"))]
samples = []
for _ in range(runs):
    start = time.perf_counter()
    for data in files:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (240, 300))
        image.thumbnail((240, 300))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
    samples.append(time.perf_counter() - start)
print(json.dumps({"version": PIL.__version__, "files": len(files), "median": statistics.median(samples), "samples": samples}))
