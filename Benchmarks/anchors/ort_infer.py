"""Anchor: inference with onnxruntime on a CPU session (intra_op_num_threads = --threads,
inter_op_num_threads = 1, sequential execution), as a user of onnxruntime writes it.

--model fmnist-small|lenet5|fashion: class probabilities for --images random 1×28×28 inputs, fed
  --batch at a time (the exported model ends in a softmax, as convd's predict does).
--model conv-layer: one 64→64 3×3 convolution (padding 1, bias) on a 1×64×56×56 input.
"""
import os

import numpy as np
import onnxruntime as ort

from common import emit, parser, timed_reps

p = parser(__doc__)
p.add_argument("--model", choices=["fmnist-small", "lenet5", "fashion", "conv-layer"], default="fmnist-small")
p.add_argument("--batch", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--images", type=int)
p.add_argument("--cache", default=os.path.join(os.path.dirname(__file__), "..", ".cache", "onnx"))
a = p.parse_args()

options = ort.SessionOptions()
options.intra_op_num_threads = a.threads
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
session = ort.InferenceSession(os.path.join(a.cache, f"{a.model}.onnx"), options,
                               providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
rng = np.random.default_rng(3)
library = f"onnxruntime {ort.__version__}"

if a.model == "conv-layer":
    x = rng.uniform(-1, 1, (1, 64, 56, 56)).astype(np.float32)
    seconds = timed_reps(a.reps, lambda: session.run(None, {name: x}))
    emit("conv_layer", seconds, shape="64x56x56->64, 3x3", threads=a.threads, library=library)
else:
    count = a.images or (512 if a.batch == 1 else 2048)
    images = rng.uniform(-1, 1, (count, 1, 28, 28)).astype(np.float32)

    def predict():
        return [session.run(None, {name: images[i:i + a.batch]})[0] for i in range(0, count, a.batch)]

    seconds = timed_reps(a.reps, predict)
    emit("infer", seconds, model=a.model, batch=a.batch, threads=a.threads, images=count,
         images_per_s=round(count / sorted(seconds)[len(seconds) // 2], 1), library=library)
