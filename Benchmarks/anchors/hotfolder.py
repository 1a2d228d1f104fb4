"""A Python hot folder: watchdog + Pillow + onnxruntime (2 threads). Classifies every PNG that
appears in FOLDER with an ONNX model whose metadata has the input mean/std and labels
(export_models.py's fashion.onnx) and appends one JSON line per file to LOG; no fsync, no
ledger. Prints "ready" once it watches. usage: hotfolder.py FOLDER MODEL LOG
"""
import json, queue, sys, time

import numpy as np
import onnxruntime as ort
from PIL import Image
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

folder, model, log_path = sys.argv[1:4]
options = ort.SessionOptions()
options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map
mean, std, labels = float(meta["mean"]), float(meta["std"]), json.loads(meta["labels"])
paths = queue.Queue()


class Handler(FileSystemEventHandler):
    def on_created(self, event):
        paths.put(event.src_path)

    def on_moved(self, event):
        paths.put(event.dest_path)


observer = Observer()
observer.schedule(Handler(), folder, recursive=True)
observer.start()
print("ready", flush=True)
with open(log_path, "a") as log:
    while True:
        path = paths.get()
        if not path.endswith(".png"):
            continue
        start = time.perf_counter()
        try:
            with Image.open(path) as image:
                x = np.asarray(image.convert("L").resize((28, 28)), dtype=np.float32) / 255
            p = session.run(None, {"input": ((x - mean) / std)[None, None]})[0][0]
            top = np.argsort(p)[::-1][:3]
            line = {"file": path, "label": labels[top[0]], "confidence": float(p[top[0]]),
                    "top": [[labels[i], float(p[i])] for i in top], "outcome": "ok"}
        except Exception as error:  # one bad file must not stop the folder
            line = {"file": path, "outcome": "failed", "reason": str(error)}
        line["ms"] = round((time.perf_counter() - start) * 1000, 3)
        log.write(json.dumps(line) + "\n")
        log.flush()
