"""Cost of the projected D's input size (issue 19, item 4): MACs per training step and seconds per step.

Not a test. CIFAR-10 100 per class (../shared/data), batch 64, width 32, ACGAN head; the trainer's own pair, one
process, on this machine's device:

    .venv/bin/python bench/bench_projected_cost.py [--sizes 64,96,128,224]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gan import resolve_data, synthmix_macs, synthmix_options  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,96,128,224")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()

    from augment.spec import DataSpec, load_dataset
    from gen.data import StepSampler, load_real_images, to_float
    from gen.train import _build_pairs, make_fabric

    a.steps, a.budget_s, a.seed = 10**9, 60, 0
    spec = DataSpec(data=str(resolve_data("cifar100")))
    df, lm = load_dataset(spec, progress=False)
    real = load_real_images(df, lm, 32, progress=False)
    for size in map(int, a.sizes.split(",")):
        opts = synthmix_options(f"synthmix:shared:projected:class_loss=ac+proj_size={size}", a, spec, Path("unused"))
        macs = synthmix_macs(opts, real, lm.num_classes)
        pair = _build_pairs(opts, make_fabric(1), lm.num_classes, 1)[0]
        sampler = StepSampler(real.targets, a.batch, 0)

        def step(s: int) -> None:
            idx = torch.from_numpy(sampler.indices(s))
            pair.train_step([(to_float(real.images[idx]), real.targets[idx])], s)

        step(0)  # warm-up
        n = 6 if size < 224 else 3
        t0 = time.perf_counter()
        for s in range(1, n + 1):
            step(s)
        dt = (time.perf_counter() - t0) / n
        print(json.dumps({"proj_size": size, "mmac_per_image_step": round(macs["macs_per_step"] / a.batch / 1e6, 1),
                          "d_mmac_per_image": macs["d_mmac_per_image"], "s_per_step": round(dt, 3),
                          "steps_per_s": round(1 / dt, 2)}), flush=True)


if __name__ == "__main__":
    main()
