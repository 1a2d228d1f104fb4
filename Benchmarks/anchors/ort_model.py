"""Anchor: one forward pass of an ONNX model file with onnxruntime (CPU, intra_op_num_threads =
--threads, inter_op_num_threads = 1, sequential execution, default graph optimisations), on the
folder's input_0.pb — the same file and input convd-bench's `onnx` sample runs.

--model DIR: a folder of scripts/onnx-fixtures.py (model.onnx, input_0.pb).
"""
import os

import onnx
import onnxruntime as ort
from onnx import numpy_helper

from common import emit, parser, timed_reps

p = parser(__doc__)
p.add_argument("--model", required=True)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

options = ort.SessionOptions()
options.intra_op_num_threads = a.threads
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
session = ort.InferenceSession(os.path.join(a.model, "model.onnx"), options, providers=["CPUExecutionProvider"])
tensor = onnx.TensorProto()
with open(os.path.join(a.model, "input_0.pb"), "rb") as f:
    tensor.ParseFromString(f.read())
x = numpy_helper.to_array(tensor)
name = session.get_inputs()[0].name
seconds = timed_reps(a.reps, lambda: session.run(None, {name: x}))
batch = x.shape[0]
emit("onnx", seconds, model=os.path.basename(os.path.normpath(a.model)), batch=batch, threads=a.threads,
     images_per_s=round(batch / sorted(seconds)[len(seconds) // 2], 1), library=f"onnxruntime {ort.__version__}")
