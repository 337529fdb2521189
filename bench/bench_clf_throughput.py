"""Classifier throughput on CIFAR-10 (issue 7 c, d): `train` vs a plain PyTorch loop, loading vs model, scaling.

Not a test. Reads ../shared/data/cifar10-jpg.tar.gz (extracted once under ~/.cache/synthmix).

    .venv/bin/python bench/bench_clf_throughput.py [--model resnet10t] [--size 32] [--batch 64] [--epochs 3]
        [--per-class 100] [--scaling 1000,5000,20000]

Both trainers see the same images, model, batch, albumentations preset and a 200-image validation pass per epoch;
epoch 0 is skipped (start-up). Prints Markdown tables for BENCHMARKS.md and one JSON line per measurement.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402


def _subset(per_class: int, seed: int = 0) -> str:
    from experiments.data_prep import prepare_data

    return prepare_data({"kind": "cifar10_subset", "per_class": per_class, "seed": seed})


def _loaders(train_dir: str, val_df, size: int, batch: int, workers: int):
    from augment.labels import LabelMap
    from augment.manifest import load_manifest
    from augment.presets import create_transform
    from clf.data import make_loader

    df = load_manifest(train_dir)
    lm = LabelMap.from_labels(df["label"])
    tr = make_loader(df, lm, create_transform("basic", size, True), batch, train=True, workers=workers)
    va = make_loader(val_df, lm, create_transform("basic", size, False), batch, train=False, workers=workers)
    return tr, va, len(df), lm.num_classes


def plain_loop(model_name: str, train_dir: str, val_df, size: int, batch: int, epochs: int, workers: int) -> dict:
    """The same work as `train` with nothing around it: AdamW, cross-entropy, eval pass, no logging/checkpoints."""
    import timm

    torch.manual_seed(0)
    tr, va, n, k = _loaders(train_dir, val_df, size, batch, workers)
    model = timm.create_model(model_name, num_classes=k)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    times = []
    for _ in range(epochs):
        t0 = time.time()
        model.train()
        for x, y in tr:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for x, _ in va:
                model(x)
        times.append(time.time() - t0)
    return {"images": n, "epoch_s": sum(times[1:]) / max(len(times) - 1, 1)}


def ours(model_name: str, train_dir: str, val_csv: str, size: int, batch: int, epochs: int, workers: int,
         out: str) -> dict:
    """`clf.train.train` with the same settings; epoch time from its metrics (train + validation)."""
    from augment.spec import DataSpec
    from clf.options import TrainOptions
    from clf.train import train

    t0 = time.time()
    run = train(TrainOptions(data=DataSpec(train_dir), val_data=val_csv, out=out, model=model_name, size=size,
                             epochs=epochs, batch_size=batch, warmup_epochs=0, aug="basic", workers=workers,
                             progress=False))
    wall = time.time() - t0
    hist = json.loads((run / "metrics.json").read_text())
    import pandas as pd

    per_epoch = pd.read_csv(run / "metrics.csv")["time_s"].tolist()
    return {"images": int(sum(v["real"] for v in hist["class_counts"].values())),
            "epoch_s": sum(per_epoch[1:]) / max(len(per_epoch) - 1, 1), "wall_s": wall}


def loading_vs_model(train_dir: str, val_df, model_name: str, size: int, batch: int, workers: int) -> dict:
    """Images/s of decoding + augmenting alone, and of forward+backward alone on random tensors."""
    import timm

    tr, _, n, k = _loaders(train_dir, val_df, size, batch, workers)
    t0 = time.time()
    for _x, _y in tr:
        pass
    load = n / (time.time() - t0)
    model = timm.create_model(model_name, num_classes=k)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 3, size, size), torch.randint(0, k, (batch,))
    steps = max(3, n // batch // 2)
    t0 = time.time()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"loading_img_s": load, "model_img_s": steps * batch / (time.time() - t0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet10t")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--scaling", default="1000,5000,20000", help="Training-set sizes for the wall-time table.")
    a = ap.parse_args()
    from augment.manifest import load_manifest, save_manifest

    torch.set_num_threads(os.cpu_count() or 1)
    paths = _subset(a.per_class)
    val = load_manifest(paths["test"]).groupby("label").head(20).reset_index(drop=True)  # 200 real test images
    machine = f"{os.cpu_count()} CPU cores, {'GPU ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}"
    with tempfile.TemporaryDirectory() as tmp:
        save_manifest(val, f"{tmp}/val.csv")
        o = ours(a.model, paths["train"], f"{tmp}/val.csv", a.size, a.batch, a.epochs, a.workers, f"{tmp}/runs")
        p = plain_loop(a.model, paths["train"], val, a.size, a.batch, a.epochs, a.workers)
        lm = loading_vs_model(paths["train"], val, a.model, a.size, a.batch, a.workers)
        rows = [("train (Lightning)", o), ("plain PyTorch loop", p)]
        for name, r in rows:
            r["img_s"] = (r["images"] + len(val)) / r["epoch_s"]
            print(json.dumps({"bench": "throughput", "trainer": name, **r}))
        print(json.dumps({"bench": "loading_vs_model", **lm}))
        print(f"\nMachine: {machine}, {platform.python_version()}, torch {torch.__version__}; "
              f"{a.model} at {a.size} px, batch {a.batch}, preset basic, {a.workers} loader worker(s)\n")
        print("| trainer | train images | s/epoch (train + 200 val) | images/s |\n|---|---|---|---|")
        for name, r in rows:
            print(f"| {name} | {r['images']} | {r['epoch_s']:.2f} | {r['img_s']:.0f} |")
        print(f"\nRatio train / plain: **{o['img_s'] / p['img_s']:.2f}**. Loading alone {lm['loading_img_s']:.0f} "
              f"images/s, model alone (forward+backward) {lm['model_img_s']:.0f} images/s.\n")
        sizes = [int(s) for s in a.scaling.split(",") if s]
        if sizes:
            print("| training images | epochs | wall s (whole `train` call) | s/epoch |\n|---|---|---|---|")
        for n in sizes:
            sub = _subset(n // 10)
            r = ours(a.model, sub["train"], f"{tmp}/val.csv", a.size, a.batch, 2, a.workers, f"{tmp}/runs_{n}")
            print(json.dumps({"bench": "scaling", "n": n, **r}))
            print(f"| {n} | 2 | {r['wall_s']:.1f} | {r['epoch_s']:.1f} |")


if __name__ == "__main__":
    main()
