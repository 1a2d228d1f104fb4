"""`make bench-compare`: convd against the libraries a Python user would reach for.

For each workload it runs one sample of convd (`convd-bench sample ...`, release build) and one
of its anchor (a small script in anchors/) alternately — a warm-up pair that is not counted,
then BENCH_PAIRS pairs (A B A B ...) — and prints one JSON line per workload with both medians,
the per-pair ratios and their median, then a table. Each sample is one process printing one
JSON line whose `seconds` is the median of its inner timed calls (after an untimed warm-up
call inside the process).

Every ratio is convd's TIME over the anchor's time for the same work, pair by pair:
below 1 convd is faster, above 1 it is slower. The median of the per-pair ratios is the
headline number.

Environment:
  BENCH_ONLY=filters,png      groups to run (filters, chains, png, infer, onnx, conv, train, daemon)
  BENCH_PAIRS=3               measured pairs per workload (at least 3 is sensible)
  BENCH_WARMUP=1              0: no warm-up pair
  BENCH_TRAIN_IMAGES=60000    images in the training epoch (both sides use the same ones)
  BENCH_DAEMON_FILES=2000     PNGs dropped at once into the daemon / the hot folder
  BENCH_RESULTS=path.jsonl    also write the JSON lines there (default: .cache/results/...)
Run from the top-level Makefile (`make bench-compare`), which builds convd and convd-bench and
creates the virtual environment first.
"""
import datetime
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CACHE = os.path.join(HERE, ".cache")
ONNX = os.path.join(CACHE, "onnx")
PNGS = os.path.join(CACHE, "daemon-pngs")
BENCH = os.path.join(HERE, ".build", "release", "convd-bench")
CONVD = os.environ.get("CONVD_BINARY", os.path.join(REPO, ".build", "release", "convd"))
PYTHON = sys.executable
ANCHORS = os.path.join(HERE, "anchors")
GROUPS = ["filters", "chains", "png", "infer", "onnx", "conv", "train", "daemon"]
# Imported models (make onnx-fixtures writes them; scripts/onnx-fixtures.py): 224² at batch 1 and 8.
ONNX_CACHE = os.path.join(HERE, ".cache", "onnx")
ONNX_FIXTURES = os.path.join(REPO, "Tests", "ConvdOnnxTests", "Fixtures")
ONNX_MODELS = ["resnet18-legacy", "resnet18-legacy-b8", "mobilenet_v2-legacy", "mobilenet_v2-legacy-b8",
               "squeezenet1_1-legacy", "squeezenet1_1-legacy-b8"]


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


PAIRS = env_int("BENCH_PAIRS", 3)
WARMUP = env_int("BENCH_WARMUP", 1) > 0
TRAIN_IMAGES = env_int("BENCH_TRAIN_IMAGES", 60000)
DAEMON_FILES = env_int("BENCH_DAEMON_FILES", 2000)
ONLY = [g.strip() for g in os.environ.get("BENCH_ONLY", "").split(",") if g.strip()] or GROUPS


def anchor(script, *args):
    return [PYTHON, os.path.join(ANCHORS, script), *args]


def convd(*args):
    return [BENCH, "sample", *args]


def workloads():
    """(group, name, anchor's description, convd argv, anchor argv, options) for every workload."""
    out = []
    for k in (3, 5, 11):
        for threads in (1, 2):
            for output in ("reused", "fresh"):
                args = ["--size", "4096", "--kernel", str(k), "--threads", str(threads), "--output", output,
                        "--reps", "5"]
                out.append(("filters", f"filter 4096² {k}×{k} t{threads} {output}",
                            f"cv2.filter2D dst {'reused' if output == 'reused' else 'new'}",
                            convd("filter", *args), anchor("filter2d.py", *args), {}))
    for chain, what in (("gaussian", "cv2.GaussianBlur"), ("sobel", "cvtColor+Sobel×2+magnitude")):
        for threads in (1, 2):
            args = ["--chain", chain, "--width", "1920", "--height", "1080", "--threads", str(threads), "--reps", "21"]
            out.append(("chains", f"chain {chain} 1920×1080 RGB t{threads}", what,
                        convd("chain", *args), anchor("chains.py", *args), {}))
    for op in ("encode", "decode"):
        for image in ("gray", "rgb"):
            for level in (1, 6):
                args = ["--op", op, "--image", image, "--size", "2048", "--level", str(level), "--reps", "5"]
                out.append(("png", f"png {op} 2048² {image} z{level}", f"cv2.im{op}",
                            convd("png", *args), anchor("png.py", *args), {}))
    for model in ("fmnist-small", "lenet5", "fashion"):
        for batch in (1, 256):
            for threads in (1, 2):
                args = ["--model", model, "--batch", str(batch), "--threads", str(threads), "--reps", "5"]
                out.append(("infer", f"infer {model} b{batch} t{threads}", "onnxruntime",
                            convd("infer", *args), anchor("ort_infer.py", *args), {}))
    for model in ONNX_MODELS:
        for threads in (1, 2):
            folder = os.path.join(ONNX_FIXTURES if model in os.listdir(ONNX_FIXTURES) else ONNX_CACHE, model)
            args = ["--model", folder, "--threads", str(threads), "--reps", "5"]
            out.append(("onnx", f"onnx {model} t{threads}", "onnxruntime, same file",
                        convd("onnx", *args), anchor("ort_model.py", *args), {}))
    for threads in (1, 2):
        args = ["--threads", str(threads), "--reps", "51"]
        out.append(("conv", f"conv layer 64→64 3×3 56² t{threads}", "onnxruntime Conv",
                    convd("conv-layer", *args), anchor("ort_infer.py", "--model", "conv-layer", *args), {}))
    for model in ("fmnist-small", "lenet5", "fashion-resnet"):
        args = ["--model", model, "--batch", "64", "--threads", "2", "--images", str(TRAIN_IMAGES)]
        # The warm-up (10 batches) is inside each sample: an epoch is too long to spend twice.
        out.append(("train", f"train 1 epoch {model} ({TRAIN_IMAGES // 1000}k) b64 t2", "torch, Adam",
                    convd("train", *args), anchor("torch_train.py", *args), {"warmup": False}))
    args = ["--files", str(DAEMON_FILES), "--images", PNGS]
    out.append(("daemon", f"daemon {DAEMON_FILES} PNGs 28² at once", "watchdog+Pillow+ort hot folder",
                convd("daemon", *args), anchor("hotfolder_sample.py", *args), {"workdir": True}))
    return [w for w in out if w[0] in ONLY]


def run_sample(argv, workdir=None):
    """One sample: the process's JSON line (the last line of its stdout)."""
    if workdir:
        argv = [*argv, "--workdir", workdir]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "CONVD_BINARY": CONVD}, cwd=ANCHORS)
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


def median(values):
    return statistics.median(values) if values else float("nan")


def measure(group, name, what, convd_argv, anchor_argv, options):
    started = time.time()
    workdir = tempfile.mkdtemp(prefix="convd-bench-compare-") if options.get("workdir") else None
    try:
        if WARMUP and options.get("warmup", True):
            run_sample(convd_argv, workdir)
            run_sample(anchor_argv, workdir)
        convd_lines, anchor_lines = [], []
        for _ in range(PAIRS):
            convd_lines.append(run_sample(convd_argv, workdir))
            anchor_lines.append(run_sample(anchor_argv, workdir))
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    c = [l["seconds"] for l in convd_lines]
    a = [l["seconds"] for l in anchor_lines]
    ratios = [x / y for x, y in zip(c, a)]
    skip = {"side", "workload", "seconds", "samples", "reps"}
    return {
        "workload": name, "group": group, "anchor": what,
        "ratio": "convd_time/anchor_time", "better": "below 1: convd faster",
        "convd_median_s": round(median(c), 6), "anchor_median_s": round(median(a), 6),
        "ratios": [round(r, 4) for r in ratios], "ratio_median": round(median(ratios), 4),
        "convd_s": c, "anchor_s": a,
        "convd": {k: v for k, v in convd_lines[-1].items() if k not in skip},
        "anchor_info": {k: v for k, v in anchor_lines[-1].items() if k not in skip},
        "pairs": PAIRS, "warmup": WARMUP and options.get("warmup", True),
        "elapsed_s": round(time.time() - started, 1), "load_avg_at_start": round(os.getloadavg()[0], 2),
    }


def prepare():
    """The ONNX exports and the daemon's PNGs, in .cache (git-ignored), made once."""
    if any(g in ONLY for g in ("infer", "conv", "daemon")):
        subprocess.run([PYTHON, os.path.join(ANCHORS, "export_models.py"), ONNX, REPO], check=True,
                       stdout=subprocess.DEVNULL, cwd=ANCHORS)
    if "onnx" in ONLY and not all(os.path.isfile(os.path.join(ONNX_CACHE, m, "model.onnx"))
                                  for m in ONNX_MODELS if not m.startswith("squeezenet1_1-legacy") or m.endswith("b8")):
        subprocess.run([PYTHON, os.path.join(REPO, "scripts", "onnx-fixtures.py"), "--large"], check=True,
                       stdout=subprocess.DEVNULL)
    if "daemon" in ONLY and len(glob.glob(os.path.join(PNGS, "*.png"))) < DAEMON_FILES:
        # The same files for both sides: Fashion-MNIST test images, 28×28 gray, zlib level 6.
        sys.path.insert(0, ANCHORS)
        from common import fashion
        from PIL import Image
        images, _ = fashion("t10k")
        os.makedirs(PNGS, exist_ok=True)
        for i in range(min(DAEMON_FILES, len(images))):
            Image.fromarray(images[i]).save(os.path.join(PNGS, f"f{i:05d}.png"), compress_level=6)


def model_check():
    """The hot folder's ONNX export of the shipped model against `convd classify` on the
    sample images: how many labels agree, and the largest confidence difference."""
    files = sorted(glob.glob(os.path.join(REPO, "samples", "images", "fashion", "*.png")))
    if not files or not os.path.exists(CONVD):
        return None
    done = subprocess.run([CONVD, "classify", "--model",
                           os.path.join(REPO, "samples", "models", "fashion-mnist.safetensors"), "--json", *files],
                          capture_output=True, text=True)
    import numpy as np
    import onnxruntime as ort
    from PIL import Image
    session = ort.InferenceSession(os.path.join(ONNX, "fashion.onnx"), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    mean, std, labels = float(meta["mean"]), float(meta["std"]), json.loads(meta["labels"])
    agree, diff, count = 0, 0.0, 0
    for line in done.stdout.splitlines():
        entry = json.loads(line)
        x = np.asarray(Image.open(entry["file"]).convert("L"), dtype=np.float32) / 255
        p = session.run(None, {"input": ((x - mean) / std)[None, None]})[0][0]
        agree += labels[int(p.argmax())] == entry["label"]
        diff = max(diff, abs(float(p.max()) - entry["confidence"]))
        count += 1
    return {"images": count, "labels_agree": agree, "max_confidence_diff": float(f"{diff:.3g}")}


def header():
    versions = {}
    for module, name in (("cv2", "opencv"), ("onnxruntime", "onnxruntime"), ("torch", "torch"),
                         ("numpy", "numpy"), ("PIL", "Pillow"), ("watchdog.version", "watchdog")):
        try:
            m = __import__(module, fromlist=["_"])
            versions[name] = getattr(m, "VERSION_STRING", None) or getattr(m, "__version__", "?")
        except Exception as error:  # reported, not fatal
            versions[name] = f"missing: {error}"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"bench_compare": {
        "time": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "commit": commit,
        "cpu": cpu, "cores": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "libraries": versions,
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
        "pairs": PAIRS, "warmup_pair": WARMUP, "groups": ONLY,
        "ratio": "convd_time/anchor_time per pair; below 1: convd faster"}}


def seconds_text(s):
    return f"{s * 1000:.3g} ms" if s < 1 else f"{s:.3g} s"


def table(results):
    rows = [("workload", "anchor", "convd", "anchor", "convd/anchor", "pair ratios", "verdict")]
    for r in results:
        if "error" in r:
            rows.append((r["workload"], r["anchor"], "-", "-", "-", "-", "error: " + r["error"][:60]))
            continue
        m = r["ratio_median"]
        verdict = f"convd {1 / m:.2f}× faster" if m < 1 else f"convd {m:.2f}× slower"
        rows.append((r["workload"], r["anchor"], seconds_text(r["convd_median_s"]),
                     seconds_text(r["anchor_median_s"]), f"{m:.3f}",
                     f"{min(r['ratios']):.2f}–{max(r['ratios']):.2f}", verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if j < 2 or j == 6 else cell.rjust(w)
                               for j, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("convd/anchor: median over the pairs of convd's time / the anchor's time "
                 "(below 1: convd faster); times are medians of the samples")
    return "\n".join(lines)


def main():
    unknown = [g for g in ONLY if g not in GROUPS]
    if unknown:
        sys.exit(f"BENCH_ONLY: unknown group(s) {', '.join(unknown)}; groups: {', '.join(GROUPS)}")
    for path, what in ((BENCH, "convd-bench (swift build -c release --package-path Benchmarks)"),
                       (CONVD, "convd (swift build -c release)")):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: build {what}, or run `make bench-compare`")
    started = time.time()
    prepare()
    results_path = os.environ.get("BENCH_RESULTS") or os.path.join(
        CACHE, "results", datetime.datetime.now().strftime("compare-%Y%m%d-%H%M%S.jsonl"))
    os.makedirs(os.path.dirname(os.path.abspath(results_path)), exist_ok=True)
    results = []
    with open(results_path, "w") as out:
        def emit(obj):
            line = json.dumps(obj, ensure_ascii=False)
            print(line, flush=True)
            out.write(line + "\n")
            out.flush()
        head = header()
        if "daemon" in ONLY:
            head["bench_compare"]["hot_folder_model_check"] = model_check()
        emit(head)
        for group, name, what, convd_argv, anchor_argv, options in workloads():
            try:
                result = measure(group, name, what, convd_argv, anchor_argv, options)
            except (RuntimeError, subprocess.TimeoutExpired, KeyError, ValueError) as error:
                result = {"workload": name, "group": group, "anchor": what, "error": str(error)}
            results.append(result)
            emit(result)
        total = round(time.time() - started, 1)
        emit({"bench_compare_done": {"workloads": len(results), "errors": sum("error" in r for r in results),
                                     "total_s": total}})
    print()
    print(table(results))
    print(f"\n{len(results)} workloads, {PAIRS} pairs each, {total:.0f} s; JSON lines also in {results_path}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
