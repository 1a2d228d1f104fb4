"""What the anchors share: argument parsing, the timing loop, the JSON line, the inputs.

Every anchor prints one JSON line per sample, as `convd-bench sample` does: `seconds` is the
median of `--reps` timed calls after one untimed warm-up call.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--reps", type=int, default=5)
    return p


def timed_reps(reps, body):
    """One untimed warm-up call, then `reps` timed calls: their times in seconds."""
    body()
    times = []
    for _ in range(max(1, reps)):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return times


def emit(workload, seconds, **fields):
    line = {"side": "anchor", "workload": workload, **fields,
            "seconds": round(statistics.median(seconds), 6), "reps": len(seconds),
            "samples": [round(s, 6) for s in seconds]}
    print(json.dumps(line), flush=True)


def pattern_image(width, height, channels):
    """The benchmark picture as H×W×C uint8, byte for byte what convd-bench's
    `patternImage` makes: ramps and a wave with a little deterministic noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    wave = np.trunc(40 * np.sin((x + 3 * y) / 50)).astype(np.int64)
    planes = []
    for c in range(channels):
        noise = ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) % 13
        smooth = (x * (c + 1) + y * 2) // 16 + wave
        planes.append(((smooth + noise) & 0xFF).astype(np.uint8))
    return np.stack(planes, axis=-1)


FASHION = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    """An IDX file (MNIST's format), gzipped or not, as a numpy array."""
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(split, folder=FASHION):
    """(images N×28×28 uint8, labels N) of Fashion-MNIST's `train` or `t10k` split."""
    import os
    def find(stem):
        for name in (stem, stem + ".gz"):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        sys.exit(f"{stem} not in {folder} (apt-get install dataset-fashion-mnist)")
    return load_idx(find(f"{split}-images-idx3-ubyte")), load_idx(find(f"{split}-labels-idx1-ubyte"))
