"""Anchor: 2-D correlation of a size² float32 image with one k×k kernel in OpenCV.

cv2.filter2D is correlation (no flip) like convd's conv; BORDER_CONSTANT (zeros) with the
default centred anchor is convd's `padding=same` with its zero border. `--output reused`
passes the same `dst` every call; `fresh` lets OpenCV allocate a new array per call.
"""
import cv2
import numpy as np

from common import emit, parser, timed_reps

p = parser(__doc__)
p.add_argument("--size", type=int, default=4096)
p.add_argument("--kernel", type=int, default=3)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--output", choices=["reused", "fresh"], default="reused")
a = p.parse_args()

cv2.setNumThreads(a.threads)
rng = np.random.default_rng(1)
src = rng.random((a.size, a.size), dtype=np.float32)
kernel = rng.uniform(-1, 1, (a.kernel, a.kernel)).astype(np.float32)
if a.output == "reused":
    dst = np.empty_like(src)
    seconds = timed_reps(a.reps, lambda: cv2.filter2D(src, -1, kernel, dst=dst, borderType=cv2.BORDER_CONSTANT))
else:
    seconds = timed_reps(a.reps, lambda: cv2.filter2D(src, -1, kernel, borderType=cv2.BORDER_CONSTANT))
emit("filter", seconds, size=a.size, kernel=a.kernel, threads=a.threads, output=a.output,
     library=f"opencv {cv2.__version__}")
