"""train-gan's steps per second by image size and width on this machine (issue 32: the README's table). Not a test.

Each setting is the default generator (ACGAN head, batch 64, one D step) timed by the trainer's own measurement
(gen.train._pace_of: a warm-up step, then `--steps` steps on random images), so the numbers are what
`train-gan --budget-minutes` plans with. Run it alone: a second job on the cores halves them.

    .venv/bin/python bench/bench_gan_pace.py [--sizes 32,64,128] [--widths 16,32,64] [--out bench/results/gan_pace]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="32,64,128")
    ap.add_argument("--widths", default="16,32,64")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()

    from gen.options import GanOptions, resolve_auto
    from gen.train import _pace_of, make_fabric

    fabric = make_fabric(1)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu x{torch.get_num_threads()}"
    rows = []
    for size in map(int, a.sizes.split(",")):
        for width in map(int, a.widths.split(",")):
            opts = resolve_auto(GanOptions(size=size, ngf=width, ndf=width, progress=False))
            t = time.perf_counter()
            rate = _pace_of(opts, fabric, a.classes, 1, 3, {}, steps=a.steps)
            rows.append({"size": size, "width": width, "steps_per_s": rate, "images_per_s": rate * opts.batch,
                         "minutes_per_1000_steps": 1000 / rate / 60, "timed_s": time.perf_counter() - t})
            r = rows[-1]
            print(f"{size:>4} px  width {width:>3}: {r['steps_per_s']:8.3f} steps/s  {r['images_per_s']:8.1f} img/s  "
                  f"{r['minutes_per_1000_steps']:8.1f} min per 1,000 steps", flush=True)
    print("\n| size | " + " | ".join(f"width {w}" for w in a.widths.split(",")) + " |")
    print("|---|" + "---|" * len(a.widths.split(",")))
    for size in map(int, a.sizes.split(",")):
        cells = [f"{r['steps_per_s']:.3g}" for r in rows if r["size"] == size]
        print(f"| {size} px | " + " | ".join(cells) + " |")
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / f"{'cuda' if torch.cuda.is_available() else 'cpu'}.json").write_text(json.dumps(
            {"device": device, "machine": platform.node(), "torch": torch.__version__, "batch": 64, "rows": rows},
            indent=1))


if __name__ == "__main__":
    main()
