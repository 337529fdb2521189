"""Classifier timings on CPU/GPU: seconds per epoch of `train` on the embedded demo digits (not a test).

Usage: python bench/bench_clf.py [--model resnet10t] [--size 32] [--per-class 60] [--epochs 2]
Prints one JSON line per run; copy figures into BENCHMARKS.md with the machine they were taken on.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from augment.demo_data import export_mnist
    from augment.spec import DataSpec
    from clf.options import TrainOptions
    from clf.train import train

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet10t")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lite0-imagenet", action="store_true")
    ap.add_argument("--trainable", default="all")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export_mnist(f"{tmp}/digits", per_class=a.per_class)
        t0 = time.time()
        run = train(TrainOptions(data=DataSpec(f"{tmp}/digits"), out=f"{tmp}/runs", model=a.model, size=a.size,
                                 epochs=a.epochs, lite0_imagenet=a.lite0_imagenet, trainable=a.trainable,
                                 warmup_epochs=0, progress=False))
        m = json.loads((run / "metrics.json").read_text())
        print(json.dumps({"model": a.model, "size": a.size, "images": a.per_class * 10, "epochs": a.epochs,
                          "trainable": a.trainable, "total_s": round(time.time() - t0, 1),
                          "epoch_time_s": m["epoch_time_s"], "val_acc": round(m["val_acc"], 3)}))


if __name__ == "__main__":
    main()
