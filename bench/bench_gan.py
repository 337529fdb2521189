"""Benchmark (not a test): SynthMix's train-gan vs a minimal plain-PyTorch conditional DCGAN, same CPU time budget.

CIFAR-10, 10% of the training set (500 per class), 32 px. Both use the same DCGAN nets and width; the plain loop
has no Fabric, DiffAugment, EMA, balanced sampler, logging or snapshots. Reported: images/s of each, their ratio,
and KID/FID of each (gen.metrics, EfficientNet-Lite0 features on CPU) against the 5,000 real training images.

    .venv/bin/python bench/bench_gan.py --budget-s 120 --width 32

The archive is extracted once to ~/.cache/synthmix (never into the repository).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments.data_prep import cache_root, prepare_data  # noqa: E402

CACHE = cache_root()


def cifar_subset(per_class: int) -> Path:
    """A seeded `per_class` subset of CIFAR-10's training set (the archive is extracted once, shared with ablate)."""
    return Path(prepare_data({"kind": "cifar10_subset", "per_class": per_class, "seed": 0})["train"])


def plain_loop(real, num_classes: int, width: int, batch: int, budget_s: float, seed: int):
    """The minimal conditional DCGAN loop: same nets, hinge loss, Adam(2e-4, (0.5, 0.999)), uniform batches."""
    from gen.data import to_float
    from gen.nets import build_discriminator, build_generator

    torch.manual_seed(seed)
    G, D = build_generator(32, 128, width, num_classes), build_discriminator(32, width, num_classes)
    og = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget_s:
        idx = torch.randint(0, len(real.images), (batch,))
        x, y = to_float(real.images[idx]), real.targets[idx]
        with torch.no_grad():
            fake = G(torch.randn(batch, 128), y)
        loss_d = torch.relu(1 - D(x, y)).mean() + torch.relu(1 + D(fake, y)).mean()
        od.zero_grad()
        loss_d.backward()
        od.step()
        loss_g = -D(G(torch.randn(batch, 128), y), y).mean()
        og.zero_grad()
        loss_g.backward()
        og.step()
        steps += 1
    return G.eval(), steps, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget-s", type=float, default=120.0, help="Training wall-clock seconds for each trainer.")
    ap.add_argument("--width", type=int, default=32, help="ngf = ndf.")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--per-class", type=int, default=500)
    ap.add_argument("--score-n", type=int, default=2000, help="Generated images per score.")
    ap.add_argument("--extractor", default="effnet-lite0")
    ap.add_argument("--out", default=str(CACHE / "bench-gan" / "runs"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    from augment.spec import DataSpec, load_dataset
    from common.atomic import read_jsonl
    from gen.data import load_real_images, to_uint8
    from gen.metrics import score_generator
    from gen.options import GanOptions
    from gen.synth import load_sampler
    from gen.train import train_gan

    data = cifar_subset(a.per_class)
    spec = DataSpec(data=str(data))
    df, label_map = load_dataset(spec, progress=False)
    real = load_real_images(df, label_map, 32, progress=False)
    reals = {c: real.images[real.targets == k] for k, c in enumerate(label_map.names)}
    names = list(label_map.names)

    def opts(steps: int) -> GanOptions:
        return GanOptions(data=spec, out=a.out, steps=steps, batch=a.batch, ngf=a.width, ndf=a.width, seed=a.seed,
                          snapshot_every=10**9, log_every=5, progress=False)

    # SynthMix: calibrate steps/s on a short run, then train for the budget (setup time reported apart).
    cal = train_gan(opts(10))
    step_s = [r["step_time"] for r in read_jsonl(cal / "stats.jsonl") if "step_time" in r][-1]  # steps 6-10
    steps = max(1, int(a.budget_s / step_s))
    t0 = time.perf_counter()
    run = train_gan(opts(steps))
    total = time.perf_counter() - t0
    rows = [r for r in read_jsonl(run / "stats.jsonl") if "step_time" in r]
    train_s = rows[-1]["elapsed_s"]
    ours_ips = steps * a.batch / train_s
    sample_ours, _ = load_sampler(run)

    # Plain loop, same budget, same process.
    G, plain_steps, plain_s = plain_loop(real, len(names), a.width, a.batch, train_s, a.seed)
    plain_ips = plain_steps * a.batch / plain_s

    @torch.no_grad()
    def sample_plain(k: int, n: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(10**6 * (k + 1))
        return to_uint8(G(torch.randn(n, 128, generator=g), torch.full((n,), k, dtype=torch.long)))

    def score(fn):
        return score_generator(fn, reals, class_names=names, metrics=("kid", "fid"), extractor=a.extractor,
                               n=a.score_n, seed=a.seed)

    s_ours, s_plain = score(sample_ours), score(sample_plain)
    result = {
        "budget_s": a.budget_s, "width": a.width, "batch": a.batch, "threads": torch.get_num_threads(),
        "synthmix": {"steps": steps, "train_s": round(train_s, 1), "setup_s": round(total - train_s, 1),
                     "images_per_s": round(ours_ips, 1), "kid": s_ours["kid"], "fid": s_ours["fid"]},
        "plain": {"steps": plain_steps, "train_s": round(plain_s, 1), "images_per_s": round(plain_ips, 1),
                  "kid": s_plain["kid"], "fid": s_plain["fid"]},
        "ratio_images_per_s": round(ours_ips / plain_ips, 3), "protocol": s_ours["protocol"], "run": str(run),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
