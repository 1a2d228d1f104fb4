"""convd's architectures in PyTorch, layer for layer (Sources/ConvdNet/Presets.swift and
samples/models/fashion.toml; `convd inspect NAME` prints them), and their ONNX export.

`fashion` is an nn.Sequential whose indices are convd's layer numbers (convd inserts a
flatten before the dense layer), so the shipped model's `layers.<i>.<name>` tensors load
into it as `<i>.<name>`.
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn


def fmnist_small():
    # conv3×3 16 pad 1, ReLU, pool 2, conv3×3 32 pad 1, ReLU, pool 2, dense 10: 20,490 parameters.
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def lenet5():
    # LeNet-5 with ReLU and max pooling: 61,706 parameters.
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def fashion():
    # samples/models/fashion.toml: 98,666 parameters.
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1),
                nn.ReLU()]
    return nn.Sequential(
        *block(1, 32), nn.MaxPool2d(2),                          # 0-3
        *block(32, 64), nn.MaxPool2d(2),                         # 4-7
        *block(64, 64),                                          # 8-10
        *block(64, 64), nn.MaxPool2d(2),                         # 11-14
        nn.Dropout(0.2), nn.Flatten(), nn.Linear(64 * 3 * 3, 10))  # 15-17


class BasicBlock(nn.Module):
    """Two 3×3 conv + BN, the input (or its 1×1 strided projection + BN) added before the last ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return torch.relu(self.main(x) + self.shortcut(x))


def fashion_resnet():
    # samples/models/fashion-mnist-resnet.toml: 485,994 parameters.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        BasicBlock(32, 32, 1), BasicBlock(32, 64, 2), BasicBlock(64, 64, 1), BasicBlock(64, 160, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(160, 10))


ARCHITECTURES = {"fmnist-small": fmnist_small, "lenet5": lenet5, "fashion": fashion, "fashion-resnet": fashion_resnet}


def read_safetensors(path):
    """(tensors by name as float32 arrays, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", entry
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[base + start:base + end], dtype="<f4").reshape(entry["shape"])
    return tensors, metadata


def load_convd_model(path):
    """The shipped convd model (samples/models/fashion-mnist.safetensors) as the PyTorch
    `fashion` network in eval mode, with its input spec and labels."""
    tensors, metadata = read_safetensors(path)
    model = fashion()
    state = model.state_dict()
    for name, value in tensors.items():
        key = name.removeprefix("layers.")
        assert key in state and tuple(state[key].shape) == value.shape, (name, value.shape)
        state[key] = torch.from_numpy(value.copy())
    model.load_state_dict(state)
    return model.eval(), json.loads(metadata["input"]), json.loads(metadata["labels"])


def export(model, path, input_shape, probabilities=True, metadata=None):
    """ONNX export with a dynamic batch axis; a softmax is appended (as convd's predict returns
    probabilities) unless `probabilities` is false. `metadata` goes into the model's props."""
    import onnx
    model = model.eval()
    if probabilities:
        model = nn.Sequential(model, nn.Softmax(dim=1))
    x = torch.zeros(1, *input_shape)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (x,), tmp, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17,
                          dynamo=False)
    proto = onnx.load(tmp)
    onnx.checker.check_model(proto)
    if metadata:
        onnx.helper.set_model_props(proto, {k: str(v) for k, v in metadata.items()})
    onnx.save(proto, tmp)
    os.replace(tmp, path)
