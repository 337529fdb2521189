"""Real-only classifier recipes on CIFAR-10 at N per class: test accuracy, wall time and MACs per cell.

Chooses the grids' from-scratch recipe and transfer input size (issue 20) by measurement, on the ablation's own
split (experiments/configs/cifar10_100pc.yaml's data recipe) and CIFAR-10's 5,000 test images.

Usage:
  python bench/bench_recipes.py --recipe scratch-r10 --seeds 0 --out /tmp/recipes.jsonl
  python bench/bench_recipes.py --recipe lite0 --set size=64 --seeds 0,1,2 --out /tmp/recipes.jsonl
Each cell appends one JSON line to --out (cells already there are skipped, so a killed run resumes).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Named starting points; --set key=value overrides any TrainOptions field.
RECIPES = {
    # The grids' transfer arm: Lite0 with its offline ImageNet weights (cifar10_100pc.yaml's classifier).
    "lite0": {"model": "tf_efficientnet_lite0", "lite0_imagenet": True, "epochs": 6, "size": 32, "batch_size": 64,
              "lr": 0.002, "aug": "basic"},
    # The old from-scratch arm: the same network without the weights.
    "scratch-lite0": {"model": "tf_efficientnet_lite0", "epochs": 6, "size": 32, "batch_size": 64, "lr": 0.002,
                      "aug": "basic"},
    # A CIFAR-stem ResNet (clf/archs.py) with the CIFAR recipe: SGD + momentum, cosine, pad-and-crop.
    "scratch-r10": {"model": "resnet10_cifar", "epochs": 60, "size": 32, "batch_size": 64, "opt": "sgd", "lr": 0.05,
                    "weight_decay": 5e-4, "warmup_epochs": 2, "aug": "crop"},
    # airbench94's network and its recipe's pieces that fit the Lightning loop (issue 29): nesterov SGD at momentum
    # 0.85, label smoothing 0.2, flip + translate training (crop) and test-time views; lr and weight decay rescaled
    # from its per-1024 units to batch 64 (lr 11.5 / 7850 x 64 ~ 0.09; per-step decay kept: wd ~ 1.3e-3).
    "scratch-airbench": {"model": "airbench_cifar", "epochs": 80, "size": 32, "batch_size": 64, "opt": "sgd",
                         "lr": 0.09, "momentum": 0.85, "weight_decay": 1.3e-3, "warmup_epochs": 5,
                         "label_smoothing": 0.2, "aug": "crop", "tta": ("hflip", "shift")},
}


def macs_per_image(opts) -> float:
    """Forward MACs of one image at the cell's input size (torch's FLOP counter / 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from clf.models import create_classifier

    m = create_classifier(opts.model, 10).eval()
    size = opts.size or 32
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        m(torch.zeros(1, 3, size, size))
    return fc.get_total_flops() / 2


def typed(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(v.lower(), v)


def main() -> None:
    from augment.spec import DataSpec
    from clf.options import TrainOptions
    from clf.train import train
    from experiments.data_prep import prepare_data

    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", choices=sorted(RECIPES), required=True)
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE over the recipe (TrainOptions fields)")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--archive", default="../shared/data/cifar10-jpg.tar.gz")
    ap.add_argument("--out", required=True, help="JSON-lines file the cells are appended to")
    a = ap.parse_args()
    fields = dict(RECIPES[a.recipe])
    for kv in a.set:
        k, _, v = kv.partition("=")
        k = k.replace("-", "_")
        fields[k] = tuple(x for x in v.split(",") if x) if k in ("tta", "stages") else typed(v)
    data = prepare_data({"kind": "cifar10_subset", "archive": a.archive, "per_class": a.per_class, "seed": 0})
    out = Path(a.out)
    done = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    for seed in (int(s) for s in a.seeds.split(",")):
        key = {"recipe": a.recipe, "fields": fields, "per_class": a.per_class, "seed": seed}
        if any({k: d.get(k) for k in key} == key for d in done):
            print(f"done already: {key}")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            opts = TrainOptions(data=DataSpec(data["train"]), out=tmp, test_data=data["test"], seed=seed,
                                progress=False, tensorboard=False, workers=0, **fields)
            t0 = time.time()
            run = train(opts)
            m = json.loads((Path(run) / "metrics.json").read_text())
        row = {**key, "test_acc": round(m["test_acc"], 4), "test_macro_f1": round(m["test_macro_f1"], 4),
               "val_acc": round(m["val_acc"], 4), "best_epoch": m["best_epoch"], "wall_s": round(time.time() - t0, 1),
               "epoch_time_s": m["epoch_time_s"], "mmac_per_image": round(macs_per_image(opts) / 1e6, 1)}
        print(json.dumps(row), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
