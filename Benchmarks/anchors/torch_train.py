"""Anchor: one training epoch in PyTorch of convd's architecture (models.py), on the first
--images Fashion-MNIST training images: batch --batch, Adam lr 1e-3, cross-entropy,
torch.set_num_threads(--threads); the images normalised by their mean and std once, batches
taken from a random permutation each epoch. A 10-batch warm-up epoch comes first; the sample
is the one timed epoch.
"""
import time

import torch
from torch import nn

import models
from common import emit, fashion, parser

p = parser(__doc__)
p.add_argument("--model", choices=["fmnist-small", "lenet5", "fashion-resnet"], default="fmnist-small")
p.add_argument("--batch", type=int, default=64)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--images", type=int, default=60000)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(1)
images, labels = fashion("train")
x = torch.from_numpy(images[:a.images].copy()).float().div_(255).unsqueeze(1)
x = (x - x.mean()) / x.std()
y = torch.from_numpy(labels[:a.images].astype("int64"))
model = models.ARCHITECTURES[a.model]()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()


def epoch(x, y):
    model.train()
    order = torch.randperm(len(x))
    total, correct = 0.0, 0
    for start in range(0, len(x), a.batch):
        idx = order[start:start + a.batch]
        optimizer.zero_grad()
        logits = model(x[idx])
        loss = loss_fn(logits, y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
        correct += int((logits.argmax(1) == y[idx]).sum())
    return total / len(x), correct / len(x)


epoch(x[:10 * a.batch], y[:10 * a.batch])
start = time.perf_counter()
loss, accuracy = epoch(x, y)
seconds = time.perf_counter() - start
emit("train", [seconds], model=a.model, batch=a.batch, threads=a.threads, images=len(x),
     train_loss=round(loss, 4), train_accuracy=round(accuracy, 4), library=f"torch {torch.__version__}")
