"""Anchor: a width×height RGB picture (float32 0..1, H×W×3 as OpenCV holds it) through what
an OpenCV user writes for convd's chains:

  gaussian  `gaussian(5, 1.0)` per channel  → cv2.GaussianBlur(img, (5, 5), 1.0)
  sobel     `gray | conv(sobel-x, sobel-y) | magnitude`
            → cvtColor(RGB2GRAY), Sobel dx and dy (3×3, float32), cv2.magnitude

all with BORDER_CONSTANT (zeros), as convd's default zero border.
"""
import cv2
import numpy as np

from common import emit, parser, pattern_image, timed_reps

p = parser(__doc__)
p.add_argument("--chain", choices=["gaussian", "sobel"], default="gaussian")
p.add_argument("--width", type=int, default=1920)
p.add_argument("--height", type=int, default=1080)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

cv2.setNumThreads(a.threads)
image = pattern_image(a.width, a.height, 3).astype(np.float32) / 255
border = cv2.BORDER_CONSTANT


def gaussian():
    return cv2.GaussianBlur(image, (5, 5), 1.0, borderType=border)


def sobel():
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3, borderType=border)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3, borderType=border)
    return cv2.magnitude(gx, gy)


seconds = timed_reps(a.reps, gaussian if a.chain == "gaussian" else sobel)
emit("chain", seconds, chain=a.chain, width=a.width, height=a.height, threads=a.threads,
     library=f"opencv {cv2.__version__}")
