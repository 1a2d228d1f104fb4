#!/usr/bin/env python3
"""Makes convd's sample images (samples/images/) with the Python standard library only:
Fashion-MNIST test images from Debian's dataset-fashion-mnist, a synthetic shapes picture,
an RGB picture, a 16-bit ramp and the lecture notes' 6x6 binary image."""
import gzip
import math
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "samples", "images")
FASHION = "/usr/share/datasets/fashion-mnist"
LABELS = ["t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def png(path, width, height, rows, color_type=0, bit_depth=8):
    """rows: lists of samples (interleaved for RGB); 16-bit samples written big-endian."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = bytearray()
    for row in rows:
        raw.append(0)
        if bit_depth == 16:
            for v in row:
                raw += struct.pack(">H", v)
        else:
            raw += bytes(row)
    data = (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def fashion():
    with gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")) as f:
        _, count, h, w = struct.unpack(">IIII", f.read(16))
        images = f.read(count * h * w)
    with gzip.open(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")) as f:
        f.read(8)
        labels = f.read(count)
    def save(path, i):
        pixels = images[i * h * w:(i + 1) * h * w]
        png(path, w, h, [pixels[y * w:(y + 1) * w] for y in range(h)])

    # samples/images/fashion-<label>.png: one each of four classes, for the filter chains.
    wanted = {7: "sneaker", 1: "trouser", 8: "bag", 9: "ankle-boot"}
    for i, label in enumerate(labels):
        if label in wanted:
            save(os.path.join(OUT, f"fashion-{wanted.pop(label)}.png"), i)
        if not wanted:
            break
    # samples/images/fashion/<true label>-<test index>.png: the first two test images of each class.
    folder = os.path.join(OUT, "fashion")
    os.makedirs(folder, exist_ok=True)
    taken = {}
    for i, label in enumerate(labels):
        if taken.get(label, 0) < 2:
            taken[label] = taken.get(label, 0) + 1
            save(os.path.join(folder, f"{LABELS[label]}-{i:05d}.png"), i)


def shapes():
    w, h = 256, 192
    rows = []
    for y in range(h):
        row = []
        for x in range(w):
            v = 30
            if (x - 64) ** 2 + (y - 64) ** 2 < 40 ** 2:
                v = 220
            if 140 <= x < 230 and 30 <= y < 90:
                v = 160
            if y >= 110 and abs(x - 128) <= (y - 110) * 0.8 and y < 180:
                v = 250
            row.append(v)
        rows.append(row)
    png(os.path.join(OUT, "shapes.png"), w, h, rows)


def colour():
    w, h = 320, 240
    rows = []
    for y in range(h):
        row = []
        for x in range(w):
            r, g, b = int(255 * x / (w - 1)), int(255 * y / (h - 1)), 96
            if (x - 200) ** 2 + (y - 120) ** 2 < 60 ** 2:
                r, g, b = 240, 200, 40
            if 40 <= x < 120 and 150 <= y < 210:
                r, g, b = 30, 60, 220
            row += [r, g, b]
        rows.append(row)
    png(os.path.join(OUT, "colour.png"), w, h, rows, color_type=2)


def ramp16():
    w, h = 256, 64
    rows = [[int(65535 * (0.5 + 0.5 * math.sin(x / 20.0 + y / 15.0))) for x in range(w)] for y in range(h)]
    png(os.path.join(OUT, "ramp16.png"), w, h, rows, bit_depth=16)


def lecture():
    rows = [[1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 0],
            [1, 0, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0]]
    png(os.path.join(OUT, "lecture-6x6.png"), 6, 6, rows)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    fashion()
    shapes()
    colour()
    ramp16()
    lecture()
