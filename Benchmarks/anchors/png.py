"""Anchor: PNG encode/decode of a size² gray or RGB picture with OpenCV at one zlib level.

encode: cv2.imencode(".png", img, [IMWRITE_PNG_COMPRESSION, level]) from H×W(×3) uint8;
decode: cv2.imdecode(bytes, IMREAD_UNCHANGED) of what imencode made, to H×W(×3) uint8.
"""
import cv2
import numpy as np

from common import emit, parser, pattern_image, timed_reps

p = parser(__doc__)
p.add_argument("--op", choices=["encode", "decode"], default="encode")
p.add_argument("--image", choices=["gray", "rgb"], default="gray")
p.add_argument("--size", type=int, default=2048)
p.add_argument("--level", type=int, default=6)
a = p.parse_args()

image = pattern_image(a.size, a.size, 1 if a.image == "gray" else 3)
if a.image == "gray":
    image = image[:, :, 0]
params = [cv2.IMWRITE_PNG_COMPRESSION, a.level]
ok, png = cv2.imencode(".png", image, params)
assert ok
if a.op == "encode":
    seconds = timed_reps(a.reps, lambda: cv2.imencode(".png", image, params))
else:
    assert np.array_equal(cv2.imdecode(png, cv2.IMREAD_UNCHANGED), image)
    seconds = timed_reps(a.reps, lambda: cv2.imdecode(png, cv2.IMREAD_UNCHANGED))
emit("png", seconds, op=a.op, image=a.image, size=a.size, level=a.level, bytes=int(png.size),
     library=f"opencv {cv2.__version__}")
