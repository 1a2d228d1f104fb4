#!/usr/bin/env python3
"""Makes ONNX model fixtures, with onnxruntime's outputs for them, for convd's ONNX importer
tests (the small set) and benchmarks (the large set).

Each model is built with seed 0 and random weights (torchvision's `weights=None`; every
BatchNorm's running mean/var, weight and bias are set to seeded non-trivial values, so that
folding them is exercised), in eval mode, and exported with a fixed input shape (no dynamic
axes) by both of torch's exporters, each into its own folder:

    <out>/<model>-legacy/   torch.onnx.export(dynamo=False, opset_version=17), input "input",
                            output "output"
    <out>/<model>-dynamo/   torch.onnx.export(dynamo=True), the default opset and names; the
                            weights stay where torch puts them (model.onnx.data beside model.onnx)

Each folder holds model.onnx, input_0.pb/output_0.pb (a seeded standard-normal input) and
input_1.pb/output_1.pb (a smooth sin·cos pattern in [-2, 2]): ONNX TensorProtos named after the
graph's input and first output, the outputs computed by onnxruntime (CPU, default graph
optimizations) from that model file. Its info.txt gives the producer, opsets, operator types and
counts, parameter count, file sizes and each output's top-1 index. An exporter that fails for a
model is reported and skipped.

The small set (default; Tests/ConvdOnnxTests/Fixtures/): convd's own fmnist-small and lenet5
(Benchmarks/anchors/models.py, 1×1×28×28), torchvision's squeezenet1_1 and mobilenet_v3_small
(1×3×224×224). It is kept under 25 MB: when it is larger, the dynamo exports of torchvision models
are dropped, the largest first, down to the smallest one (with both exporters the set is about
36 MB, so mobilenet_v3_small-dynamo is dropped).

The large set (--large; Benchmarks/.cache/onnx/, git-ignored): torchvision's resnet18,
mobilenet_v2 and efficientnet_b0 (1×3×224×224, both exporters), and resnet18, mobilenet_v2 and
squeezenet1_1 with batch 8 (legacy exporter) in <model>-legacy-b8/.

Rerun (the venv comes from Benchmarks/setup-venv.sh, which installs torchvision):

    Benchmarks/.venv/bin/python scripts/onnx-fixtures.py [--out DIR] [--large]
    Benchmarks/.venv/bin/python scripts/onnx-fixtures.py --verify [--out DIR] [--large]

--verify exports nothing: it runs each folder's model on its input_N.pb with onnxruntime and
compares with output_N.pb, and tells whether the model has functions or external data.
Reruns give the same files on the same torch/onnxruntime versions; a folder is replaced whole.
"""
import argparse
import collections
import importlib.util
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_OUT = os.path.join(ROOT, "Tests/ConvdOnnxTests/Fixtures")
LARGE_OUT = os.path.join(ROOT, "Benchmarks/.cache/onnx")
SMALL_BUDGET = 25_000_000  # bytes
LEGACY_OPSET = 17

sys.path.insert(0, os.path.join(ROOT, "Benchmarks/anchors"))
import models as anchors  # noqa: E402  convd's architectures in PyTorch


def torchvision_models():
    """torchvision.models. PyPI's torchvision wheel is built against CUDA torch: with the CPU
    torch its C++ ops (nms, roi_align: detection only) do not load and `import torchvision`
    fails. The classification models are plain Python, so then the package is set up without
    running its __init__ and only torchvision.models is imported."""
    try:
        import torchvision
        return torchvision.models
    except (ImportError, OSError, RuntimeError) as error:
        spec = importlib.util.find_spec("torchvision")
        if spec is None:
            sys.exit("torchvision is not installed: run Benchmarks/setup-venv.sh")
        print(f"note: import torchvision failed ({error}); loading torchvision.models alone", file=sys.stderr)
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    spec = importlib.util.find_spec("torchvision")
    package = importlib.util.module_from_spec(spec)
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["torchvision"] = package
    import torchvision.models
    return torchvision.models


def torchvision_model(name):
    return lambda: getattr(torchvision_models(), name)(weights=None)


class TinyRGB(nn.Module):
    """A small colour classifier with the blocks of MobileNets kept apart by the exporter
    (BatchNormalization nodes, a depthwise convolution, ReLU6 as Clip, HardSwish, a
    squeeze-excite gate) and a Softmax head: convd's fusions and its end-to-end tests."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8),
                                       nn.Hardswish())
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 1),
                                  nn.Hardsigmoid())
        self.project = nn.Sequential(nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        x = self.depthwise(self.stem(x))
        x = self.project(x * self.gate(x))
        return torch.softmax(self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)), dim=1)


# The labels written into tinyrgb's metadata_props (key "labels"), as a model may carry them.
TINY_LABELS = "red,green,blue"

# name: (builder, input shape without batch, exporters, batch)
SMALL = [
    ("tinyrgb", TinyRGB, (3, 32, 32), ("legacy-bn", "dynamo-bn"), 1),
    ("fmnist-small", anchors.fmnist_small, (1, 28, 28), ("legacy", "dynamo"), 1),
    ("lenet5", anchors.lenet5, (1, 28, 28), ("legacy", "dynamo"), 1),
    ("squeezenet1_1", torchvision_model("squeezenet1_1"), (3, 224, 224), ("legacy", "dynamo"), 1),
    ("mobilenet_v3_small", torchvision_model("mobilenet_v3_small"), (3, 224, 224), ("legacy", "dynamo"), 1),
]
LARGE = [
    ("resnet18", torchvision_model("resnet18"), (3, 224, 224), ("legacy", "dynamo"), 1),
    ("mobilenet_v2", torchvision_model("mobilenet_v2"), (3, 224, 224), ("legacy", "dynamo"), 1),
    ("efficientnet_b0", torchvision_model("efficientnet_b0"), (3, 224, 224), ("legacy", "dynamo"), 1),
    ("resnet18", torchvision_model("resnet18"), (3, 224, 224), ("legacy",), 8),
    ("mobilenet_v2", torchvision_model("mobilenet_v2"), (3, 224, 224), ("legacy",), 8),
    ("squeezenet1_1", torchvision_model("squeezenet1_1"), (3, 224, 224), ("legacy",), 8),
]


def build(builder):
    """The model with seed 0, its BatchNorms' statistics and affine parameters made non-trivial."""
    torch.manual_seed(0)
    model = builder()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n) * 0.1)
                module.running_var.copy_(torch.rand(n) + 0.5)
                if module.affine:
                    module.weight.copy_(torch.rand(n) + 0.5)
                    module.bias.copy_(torch.randn(n) * 0.1)
    return model.eval()


def inputs(shape):
    """input_0: seeded standard normal; input_1: per batch item and channel, a smooth
    2·sin·cos pattern of the pixel coordinates, in [-2, 2]."""
    normal = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    n, c, h, w = shape
    y = (np.arange(h, dtype=np.float64) / h)[:, None]
    x = (np.arange(w, dtype=np.float64) / w)[None, :]
    pattern = np.empty(shape, dtype=np.float32)
    for b in range(n):
        for k in range(c):
            phase = 0.1 * (b + k)
            pattern[b, k] = 2 * np.sin(2 * np.pi * ((k + 1) * x + 0.5 * y + phase)) \
                * np.cos(2 * np.pi * (0.5 * (k + 2) * y - 0.25 * x))
    return [normal, pattern]


def export(model, x, path, exporter):
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            torch.onnx.export(model, (x,), path, dynamo=False, opset_version=LEGACY_OPSET,
                              input_names=["input"], output_names=["output"])
        elif exporter == "legacy-bn":  # no constant folding: BatchNormalization stays a node
            torch.onnx.export(model, (x,), path, dynamo=False, opset_version=LEGACY_OPSET,
                              input_names=["input"], output_names=["output"], do_constant_folding=False)
            proto = onnx.load(path)
            entry = proto.metadata_props.add()
            entry.key, entry.value = "labels", TINY_LABELS
            onnx.save(proto, path)
        elif exporter == "dynamo-bn":  # the exporter's optimizer off: BatchNormalization stays
            torch.onnx.export(model, (x,), path, dynamo=True, optimize=False)
        else:
            torch.onnx.export(model, (x,), path, dynamo=True)


def session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def write_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name=name).SerializeToString())


def read_tensor(path):
    proto = onnx.TensorProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return proto.name, numpy_helper.to_array(proto)


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def info(folder, model, outputs):
    proto = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    graph = proto.graph
    ops = collections.Counter(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
                              for n in graph.node)
    initialized = sum(int(np.prod(t.dims)) for t in graph.initializer)
    external = sorted({e.value for t in graph.initializer for e in t.external_data if e.key == "location"})
    lines = [
        f"producer: {proto.producer_name} {proto.producer_version}",
        f"ir_version: {proto.ir_version}",
        "opsets: " + ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in proto.opset_import),
        "inputs: " + ", ".join(f"{i.name} {[d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim]}"
                               for i in graph.input),
        "outputs: " + ", ".join(f"{o.name} {[d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim]}"
                                for o in graph.output),
        f"parameters (torch): {sum(p.numel() for p in model.parameters())}",
        f"initializer values (onnx): {initialized} in {len(graph.initializer)} tensors",
        f"external data: {', '.join(external) or 'none'}",
        f"functions: {len(proto.functions)}",
        f"nodes: {len(graph.node)}",
        "operators: " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())),
    ]
    for function in proto.functions:
        fops = collections.Counter(n.op_type for n in function.node)
        lines.append(f"  function {function.domain}.{function.name}: "
                     + ", ".join(f"{op} {n}" for op, n in sorted(fops.items())))
    lines.append("files (bytes):")
    for name in sorted(os.listdir(folder)):
        if name != "info.txt":
            lines.append(f"  {name} {os.path.getsize(os.path.join(folder, name))}")
    for i, out in enumerate(outputs):
        top1 = out.reshape(out.shape[0], -1).argmax(axis=1).tolist()
        lines.append(f"output_{i} top-1: {top1[0] if len(top1) == 1 else top1}")
    with open(os.path.join(folder, "info.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return ops, proto


def make(out, name, builder, shape, exporter, batch):
    folder = os.path.join(out, f"{name}-{exporter}" + (f"-b{batch}" if batch != 1 else ""))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    model = build(builder)
    full = (batch, *shape)
    path = os.path.join(folder, "model.onnx")
    try:
        export(model, torch.zeros(full), path, exporter)
        sess = session(path)
    except Exception as error:  # noqa: BLE001  report and go on
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"FAILED {os.path.basename(folder)}: {type(error).__name__}: {first}", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    input_name, output_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    outputs = []
    for i, x in enumerate(inputs(full)):
        y = sess.run(None, {input_name: x})[0]
        write_tensor(os.path.join(folder, f"input_{i}.pb"), x, input_name)
        write_tensor(os.path.join(folder, f"output_{i}.pb"), y, output_name)
        outputs.append(y)
    ops, proto = info(folder, model, outputs)
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    print(f"{os.path.basename(folder)}: opset {opset}, {folder_size(folder) / 1e6:.2f} MB, "
          f"{sum(ops.values())} nodes: {', '.join(sorted(ops))}", flush=True)
    return folder


def keep_under_budget(made):
    """Drops the largest torchvision dynamo exports until the set fits the budget, keeping
    the smallest one."""
    total = sum(folder_size(f) for f in made)
    dynamo = sorted((f for f in made if f.endswith("-dynamo") and "/fmnist" not in f and "/lenet" not in f
                     and "/tinyrgb" not in f),
                    key=folder_size, reverse=True)
    while total > SMALL_BUDGET and len(dynamo) > 1:
        folder = dynamo.pop(0)
        size = folder_size(folder)
        print(f"dropped {os.path.basename(folder)} ({size / 1e6:.2f} MB): the set was "
              f"{total / 1e6:.2f} MB, over {SMALL_BUDGET / 1e6:.0f} MB", flush=True)
        shutil.rmtree(folder)
        made.remove(folder)
        total -= size
    print(f"total {total / 1e6:.2f} MB", flush=True)


def verify(out):
    failures = 0
    for name in sorted(os.listdir(out)):
        folder = os.path.join(out, name)
        path = os.path.join(folder, "model.onnx")
        if not os.path.isfile(path):
            continue
        onnx.checker.check_model(path)
        proto = onnx.load(path, load_external_data=False)
        external = sorted({e.value for t in proto.graph.initializer for e in t.external_data if e.key == "location"})
        sess = session(path)
        diffs = []
        i = 0
        while os.path.exists(os.path.join(folder, f"input_{i}.pb")):
            input_name, x = read_tensor(os.path.join(folder, f"input_{i}.pb"))
            output_name, expected = read_tensor(os.path.join(folder, f"output_{i}.pb"))
            y = sess.run([output_name], {input_name: x})[0]
            ok = y.shape == expected.shape and np.allclose(y, expected, rtol=1e-5, atol=1e-6)
            diffs.append(f"{float(np.abs(y - expected).max()):.1e}" if y.shape == expected.shape else "shape")
            failures += not ok
            i += 1
        print(f"{name}: {i} cases, max |diff| {' '.join(diffs)}, functions {len(proto.functions)}, "
              f"external data {', '.join(external) or 'none'}", flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="output folder (default: the set's folder)")
    parser.add_argument("--large", action="store_true", help="the large set, for benchmarks")
    parser.add_argument("--verify", action="store_true", help="check existing folders, export nothing")
    args = parser.parse_args()
    out = args.out or (LARGE_OUT if args.large else SMALL_OUT)
    if args.verify:
        sys.exit(1 if verify(out) else 0)
    os.makedirs(out, exist_ok=True)
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}; writing {out}",
          flush=True)
    made = []
    for name, builder, shape, exporters, batch in (LARGE if args.large else SMALL):
        for exporter in exporters:
            folder = make(out, name, builder, shape, exporter, batch)
            if folder:
                made.append(folder)
    if not args.large:
        keep_under_budget(made)


if __name__ == "__main__":
    main()
