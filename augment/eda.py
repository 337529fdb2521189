"""EDA: class balance, sample grid, image sizes and a summary.json; and train/val split files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from augment.images import load_rgb
from augment.plots import image_grid, plt, save_figure
from augment.spec import DataSpec, load_dataset
from augment.split import stratified_split
from common.atomic import atomic_path, write_json
from common.outputs import check_out_dir, check_outside


def summarize(df: pd.DataFrame, sizes: np.ndarray, problems: list[dict]) -> dict:
    """Counts per class and category, imbalance ratio (largest/smallest class), size stats, bad files."""
    counts = df["label"].value_counts()
    summary = {
        "num_images": int(len(df)),
        "num_classes": int(counts.size),
        "counts_per_class": {str(k): int(v) for k, v in counts.sort_index().items()},
        "imbalance_ratio": float(counts.max() / counts.min()) if counts.size else 0.0,
        "largest_class": str(counts.idxmax()) if counts.size else None,
        "smallest_class": str(counts.idxmin()) if counts.size else None,
        "sizes": {
            "width": _stats(sizes[:, 0]), "height": _stats(sizes[:, 1]),
            "distinct_sizes": int(len({tuple(s) for s in sizes.tolist()})),
        },
        "bad_files": problems,
    }
    if df["category"].notna().any():
        summary["counts_per_category"] = {str(k): int(v) for k, v in df["category"].value_counts().sort_index().items()}
        summary["classes_per_category"] = {str(k): int(v) for k, v in
                                           df.groupby("category")["label"].nunique().sort_index().items()}
    return summary


def _stats(v: np.ndarray) -> dict:
    return {"min": int(v.min()), "median": float(np.median(v)), "max": int(v.max()), "mean": float(v.mean())}


def image_sizes(paths: list[str]) -> np.ndarray:
    """(N, 2) widths and heights, read from headers only (fast)."""
    out = np.zeros((len(paths), 2), dtype=np.int64)
    for i, p in enumerate(paths):
        with Image.open(p) as im:
            out[i] = im.size
    return out


def plot_class_balance(counts: pd.Series, path: str | Path) -> Path:
    """Sorted bars of images per class, imbalance ratio in the title."""
    counts = counts.sort_values(ascending=False)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.28 * len(counts) + 2), 3.6))
    ax.bar(range(len(counts)), counts.values, color="tab:blue")
    ax.set_xticks(range(len(counts)))
    ax.set_xticklabels([str(c) for c in counts.index], rotation=60 if len(counts) > 10 else 0, ha="right" if
                       len(counts) > 10 else "center", fontsize=8)
    ax.set_ylabel("images")
    ratio = counts.max() / counts.min()
    ax.set_title(f"{len(counts)} classes, {int(counts.sum())} images, imbalance ratio {ratio:.1f}")
    return save_figure(fig, path)


def plot_samples(df: pd.DataFrame, path: str | Path, per_class: int = 6, max_classes: int = 20, seed: int = 0) -> Path:
    """A few images per class, one row per class."""
    rng = np.random.default_rng(seed)
    classes = sorted(df["label"].unique(), key=str)[:max_classes]
    rows = []
    for c in classes:
        paths = df.loc[df["label"] == c, "path"].tolist()
        pick = rng.choice(len(paths), size=min(per_class, len(paths)), replace=False)
        rows.append([load_rgb(paths[i]) for i in pick])
    title = "samples per class" + (f" (first {max_classes} of {df['label'].nunique()})"
                                   if df["label"].nunique() > max_classes else "")
    return save_figure(image_grid(rows, row_titles=[str(c) for c in classes], title=title), path)


def plot_sizes(sizes: np.ndarray, path: str | Path) -> Path:
    """Scatter of widths against heights, with marginal histograms folded into one panel each."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    axes[0].scatter(sizes[:, 0], sizes[:, 1], s=6, alpha=0.4)
    axes[0].set_xlabel("width (px)")
    axes[0].set_ylabel("height (px)")
    axes[0].set_title("image sizes")
    axes[1].hist(sizes[:, 0] * sizes[:, 1] / 1e3, bins=30, color="tab:orange")
    axes[1].set_xlabel("area (kilopixels)")
    axes[1].set_title("image area")
    return save_figure(fig, path)


def inspect_dataset(spec: DataSpec, out: str | Path) -> dict:
    """Write class_balance.png, samples.png, sizes.png and summary.json to `out`; return the summary."""
    from common.atomic import remove_orphans

    out = check_out_dir(out)
    check_outside(out, {"--data": spec.data})
    df, _ = load_dataset(spec, report_dir=out)  # bad input fails before the output folder exists
    out.mkdir(parents=True, exist_ok=True)
    remove_orphans(out)  # temp images of an earlier inspect that was killed (SIGKILL skips every cleanup)
    sizes = image_sizes(df["path"].tolist())
    summary = summarize(df, sizes, df.attrs.get("problems", []))
    plot_class_balance(df["label"].value_counts(), out / "class_balance.png")
    plot_samples(df, out / "samples.png")
    plot_sizes(sizes, out / "sizes.png")
    write_json(out / "summary.json", summary)
    return summary


def split_to_csv(spec: DataSpec, out: str | Path, val_fraction: float = 0.2, seed: int = 0) -> dict:
    """Stratified split written as out/train.csv and out/val.csv (manifest CSVs)."""
    from common.ranges import SEED, VAL_FRACTION, check_ranges

    check_ranges(dict(val_fraction=val_fraction, seed=seed), {"val_fraction": VAL_FRACTION, "seed": SEED})
    out = check_out_dir(out)
    check_outside(out, {"--data": spec.data})
    df, _ = load_dataset(spec, report_dir=out)
    train, val, small = stratified_split(df, val_fraction, seed)  # refused before the folder is made
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train.csv", train), ("val.csv", val)):
        with atomic_path(out / name) as tmp:
            part.to_csv(tmp, index=False)
    return {"train": len(train), "val": len(val), "kept_in_train": small}
