"""Does the headroom stage's learning curve predict? (issue 32, item 3). Not a test.

For each ablation folder that ran the headroom stage (ablate --headroom-only, or a whole grid), the power law is
fitted per seed on the subsets alone (every fraction below 1) and extrapolated to the full set, which the grid's
real-only cells measured; the product's own line (fitted through the full set too) is printed beside it.

    .venv/bin/python bench/bench_headroom.py runs/ablate-cifar10_headroom runs/ablate-photos30_headroom \
        [--out bench/results/headroom]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.atomic import write_json  # noqa: E402
from experiments.learning_curve import headroom  # noqa: E402
from experiments.stats import mean_ci  # noqa: E402


def check(folder: Path) -> dict:
    """The subsets' prediction of the full set against its measurement, and the product's headroom line."""
    room = json.loads((folder / "headroom.json").read_text(encoding="utf-8"))
    points = room["points"]
    subsets = sorted({p["fraction"] for p in points if p["fraction"] < 1})
    full = [p for p in points if p["fraction"] == 1.0]
    largest = max(subsets)
    pred = headroom(points, factor=1.0 / largest, fit_on=set(subsets))
    measured = mean_ci([p["score"] for p in full])
    by_seed = {r["seed"]: r["predicted"] for r in pred["per_seed"]}
    errors = [by_seed[p["seed"]] - p["score"] for p in full if p["seed"] in by_seed]
    return {"folder": str(folder), "metric": room["metric"], "fit_on": subsets,
            "n_full": full[0]["n"] if full else None,
            "predicted_full": pred["predicted"], "measured_full": measured, "error": mean_ci(errors),
            "per_fraction": {f: mean_ci([p["score"] for p in points if p["fraction"] == f]) for f in [*subsets, 1.0]},
            "product_line": room["line"], "product_gain": room["gain"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="folder for one JSON per ablation")
    a = ap.parse_args()
    print("| ablation | metric | fitted on | per fraction (mean) | predicted full | measured full | error |")
    print("|---|---|---|---|---|---|---|")
    for folder in a.folders:
        r = check(folder)
        p, m, e = r["predicted_full"], r["measured_full"], r["error"]
        fr = ", ".join(f"{f:g}: {v['mean']:.3f}" for f, v in r["per_fraction"].items())
        print(f"| {folder.name} | {r['metric']} | {', '.join(f'{f:g}' for f in r['fit_on'])} | {fr} | "
              f"{p['mean']:.3f} [{p['ci_lo']:.3f}, {p['ci_hi']:.3f}] | {m['mean']:.3f} [{m['ci_lo']:.3f}, "
              f"{m['ci_hi']:.3f}] | {e['mean']:+.3f} [{e['ci_lo']:+.3f}, {e['ci_hi']:+.3f}] |")
        print(f"  product: {r['product_line']}")
        if a.out:
            write_json(a.out / f"{folder.name}.json", r)


if __name__ == "__main__":
    main()
