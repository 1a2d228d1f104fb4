"""Exports the ONNX models the anchors run into a cache folder (git-ignored):
fmnist-small.onnx and lenet5.onnx (random weights, seed 1: for timing), conv-layer.onnx (one
64→64 3×3 convolution, padding 1, bias) and fashion.onnx (the shipped convd model with its
weights, for the hot folder; its input mean/std and labels are in the model's metadata).

usage: export_models.py CACHE_DIR REPO_ROOT
"""
import json
import os
import sys

import torch
from torch import nn

import models

cache, repo = sys.argv[1], sys.argv[2]
torch.manual_seed(1)
for name in ("fmnist-small", "lenet5"):
    path = os.path.join(cache, f"{name}.onnx")
    if not os.path.exists(path):
        models.export(models.ARCHITECTURES[name](), path, (1, 28, 28))
path = os.path.join(cache, "conv-layer.onnx")
if not os.path.exists(path):
    models.export(nn.Conv2d(64, 64, 3, padding=1), path, (64, 56, 56), probabilities=False)
path = os.path.join(cache, "fashion.onnx")
shipped = os.path.join(repo, "samples/models/fashion-mnist.safetensors")
if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(shipped):
    model, spec, labels = models.load_convd_model(shipped)
    models.export(model, path, (1, 28, 28),
                  metadata={"mean": spec["mean"], "std": spec["std"], "labels": json.dumps(labels)})
print(json.dumps({"onnx_models": cache}))
