"""Anchor harness for the daemon workload: starts hotfolder.py on fresh folders below
--workdir, renames --files PNGs from --images into its folder at once (on another thread,
as convd-bench does for `convd run`) and tails its log (every millisecond) until every file
has a line. The sample is the seconds from the first rename to the last line; p50/p99
latency from each rename to its line and the hot folder's peak RSS come with it.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from common import emit, parser

p = parser(__doc__)
p.add_argument("--files", type=int, default=2000)
p.add_argument("--images", required=True)
p.add_argument("--workdir", default=tempfile.gettempdir())
p.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", ".cache", "onnx", "fashion.onnx"))
a = p.parse_args()

root = tempfile.mkdtemp(prefix="hotfolder-", dir=a.workdir)  # the caller removes the workdir
for name in ("in", "staging", "log"):
    os.mkdir(os.path.join(root, name))
names = sorted(n for n in os.listdir(a.images) if n.endswith(".png"))[:a.files]
for i, name in enumerate(names):
    shutil.copyfile(os.path.join(a.images, name), os.path.join(root, "staging", f"i{i}.png"))
log = os.path.join(root, "log", "classifications.jsonl")
here = os.path.dirname(os.path.abspath(__file__))
process = subprocess.Popen([sys.executable, os.path.join(here, "hotfolder.py"), os.path.join(root, "in"),
                            a.model, log], stdout=subprocess.PIPE, text=True)
try:
    assert process.stdout.readline().strip() == "ready"
    count = len(names)
    dropped = [0.0] * count
    start = time.perf_counter()

    def drop():
        for i in range(count):
            dropped[i] = time.perf_counter()
            os.rename(os.path.join(root, "staging", f"i{i}.png"), os.path.join(root, "in", f"i{i}.png"))

    thread = threading.Thread(target=drop)
    thread.start()
    arrived = {}
    failed = 0
    pending = b""
    while not os.path.exists(log):
        time.sleep(0.001)
    with open(log, "rb") as f:
        while len(arrived) < count:
            data = f.read()
            now = time.perf_counter()
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                entry = json.loads(line)
                index = int(os.path.basename(entry["file"])[1:-4])
                arrived.setdefault(index, now)
                failed += entry["outcome"] != "ok"
            if not data:
                time.sleep(0.001)
    thread.join()
    seconds = max(arrived.values()) - start
    with open(f"/proc/{process.pid}/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
finally:
    process.kill()
    process.wait()
latencies = sorted((arrived[i] - dropped[i]) * 1000 for i in range(count))
emit("daemon", [seconds], files=count, failed=failed, files_per_s=round(count / seconds, 1),
     latency_p50_ms=round(latencies[int(0.5 * count + 0.5) - 1], 3),
     latency_p99_ms=round(latencies[int(0.99 * count + 0.5) - 1], 3), peak_rss_mb=round(hwm / 1024, 1),
     library="watchdog + Pillow + onnxruntime")
