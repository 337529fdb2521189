"""ablate's headroom stage (issue 32): before any GAN, the grid's classifier recipe on fractions of the real
images per class (every grid seed), a learning curve through them and the full set, and what twice the real images
would add: the most that synthetic images as good as real ones could add. Below `headroom.min_gain`, ablate says
so before it trains a generator.

The full-set points are the grid's own real-only cells of its first setting (trained here, skipped later), so the
stage costs only the subsets.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

import numpy as np

from common.atomic import write_json
from experiments.config import AblationConfig
from experiments.grid import Cell, build_cells
from experiments.jobs import Job

RESULT = "headroom.json"


def subset(train: str, fraction: float, seed: int, out: Path) -> Path:
    """A seeded `fraction` of every class's images (at least one each) as a manifest CSV (path, label)."""
    import pandas as pd

    from augment.manifest import load_manifest, save_manifest

    df = load_manifest(train, encoding_option=None)
    rng = np.random.default_rng(seed)
    parts = [g.iloc[np.sort(rng.choice(len(g), max(1, round(fraction * len(g))), replace=False))]
             for _, g in df.groupby("label", sort=True)]
    return save_manifest(pd.concat(parts)[["path", "label"]], out)


def headroom_jobs(cfg: AblationConfig, folder: Path,
                  prepared: dict) -> tuple[list[tuple[float, Job]], list[tuple[int, Cell]]]:
    """The subsets' train jobs, each with its fraction, and the grid's real-only cells (index, cell) that are the
    full-set points."""
    from augment.spec import DataSpec
    from experiments.cells import CellInputs, train_options

    inputs = CellInputs(prepared["train"], prepared["test"], cfg.data.val, prepared.get("val_data"), None)
    grid = {c.id: (i, c) for i, c in enumerate(build_cells(cfg))}
    jobs, full = [], []
    for s in cfg.seeds:
        cell = Cell("mix", "0", cfg.augs[0], cfg.pretrained[0], s)  # real only, the grid's first setting
        full.append(grid[cell.id])
        for f in cfg.headroom.fractions:
            name = f"headroom-f{f:g}-s{s}"
            data = subset(prepared["train"], f, s, folder / "headroom" / "data" / f"{name}.csv")
            o = dataclasses.replace(train_options(cell, inputs, cfg, folder / "headroom" / "runs"),
                                    data=DataSpec(str(data), path_column="path", label_column="label"))
            jobs.append((f, Job(name, "train", o, str(folder / "logs" / f"{name}.log"))))
    return jobs, full


RunAll = Callable[[list[Job], list[tuple[int, Cell]]], None]


def run_headroom(cfg: AblationConfig, folder: Path, prepared: dict, run_all: RunAll, echo) -> dict:
    """headroom.json (made once): the points, the fit, the gain from twice the real images and its line."""
    path = folder / RESULT
    if path.exists():
        result = json.loads(path.read_text(encoding="utf-8"))
        echo(f"[ablate] {result['line']} (measured already: {path})")
        return result
    echo(f"[ablate] headroom: the classifier on {', '.join(f'{f:g}' for f in cfg.headroom.fractions)} of the real "
         f"images per class and on all of them, {len(cfg.seeds)} seeds, before any GAN ...")
    jobs, full = headroom_jobs(cfg, folder, prepared)
    run_all([job for _, job in jobs], full)
    points = _points(cfg, folder, jobs, full, sum(prepared["class_counts"].values()))
    result = summarise(points, cfg.metric, cfg.headroom.min_gain)
    if result["gain"]["n"]:
        result["plot"] = str(plot(result, folder / "plots" / "headroom.png").relative_to(folder))
    write_json(path, result)
    echo(f"[ablate] {result['line']}")
    return result


def _points(cfg: AblationConfig, folder: Path, jobs: list[tuple[float, Job]], full: list[tuple[int, Cell]],
            n_full: int) -> list[dict]:
    """{fraction, n, seed, score} of every finished run (a failed one is left out; the fit says how many it has)."""
    import pandas as pd

    from experiments.jobs import result_path

    out = []
    for fraction, job in jobs:
        res = result_path(folder / "jobs" / f"{job.name}.json")
        if not res.exists():
            continue
        r = json.loads(res.read_text(encoding="utf-8"))
        if r.get("status") != "ok" or not r.get("metrics"):
            continue
        m = json.loads(Path(r["metrics"]).read_text(encoding="utf-8"))
        n = len(pd.read_csv(job.options.data.data))
        out.append({"fraction": float(fraction), "n": n, "seed": job.options.seed, "score": m[cfg.metric]})
    for _, cell in full:
        rec = folder / "cells" / f"{cell.id}.json"
        r = json.loads(rec.read_text(encoding="utf-8")) if rec.exists() else {}
        if r.get("status") == "ok" and r.get(cfg.metric) is not None:
            out.append({"fraction": 1.0, "n": n_full, "seed": cell.seed, "score": r[cfg.metric]})
    return out


def summarise(points: list[dict], metric: str, min_gain: float) -> dict:
    """The learning curve's headroom with its one line (and 'low' when the gain is below `min_gain`)."""
    from experiments.learning_curve import headroom

    h = headroom(points)
    g = h["gain"]
    fractions = sorted({p["fraction"] for p in points})
    if not g["n"]:
        line = (f"Headroom ({metric}): not measured — no seed finished two subset sizes "
                f"({len(points)} of the runs finished); see logs/headroom-*.log")
        return {"metric": metric, "points": points, **h, "min_gain": min_gain, "low": None, "line": line}
    ci = "" if g["n"] < 2 else f" [{g['ci_lo']:+.3f}, {g['ci_hi']:+.3f}]"
    low = bool(g["mean"] < min_gain)
    line = (f"Headroom ({metric}): twice the real images ({h['n']:,.0f} → {h['target_n']:,.0f}) would add "
            f"{g['mean']:+.3f}{ci} (a power law through {', '.join(f'{f:g}' for f in fractions)} of them, "
            f"{g['n']} seeds): the most that synthetic images as good as real ones could add")
    line += (f"; below {min_gain:g}: synthetic images are unlikely to pay" if low else "")
    return {"metric": metric, "points": points, **h, "min_gain": min_gain, "low": low, "line": line}


def plot(result: dict, path: Path) -> Path:
    """The metric against training images (log axis): every run, the fitted curves, and the predicted 2x point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from experiments.learning_curve import predicted_score
    from experiments.report import _save

    fig, ax = plt.subplots(figsize=(6, 4))
    pts = result["points"]
    ax.scatter([p["n"] for p in pts], [p["score"] for p in pts], s=14, color="tab:blue", label="runs (each seed)")
    lo = min(p["n"] for p in pts)
    xs = np.geomspace(lo, result["target_n"], 50)
    for k, r in enumerate(result["per_seed"]):
        ax.plot(xs, [predicted_score(r["a"], r["b"], x) for x in xs], color="tab:blue", alpha=0.35, lw=1,
                ls="--", label="power law per seed" if k == 0 else None)
    p = result["predicted"]
    err = None if np.isnan(p.get("ci_lo", np.nan)) else [[p["mean"] - p["ci_lo"]], [p["ci_hi"] - p["mean"]]]
    ax.errorbar([result["target_n"]], [p["mean"]], yerr=err, fmt="o", color="tab:red", capsize=4,
                label=f"predicted at 2x: gain {result['gain']['mean']:+.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("real training images")
    ax.set_ylabel(result["metric"])
    ax.set_title("Headroom: what twice the real images would add")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)
