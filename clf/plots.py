"""Training plots: loss/metric curves, LR curve, normalised confusion matrix, per-class F1 bars."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common.atomic import atomic_path  # noqa: E402


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def plot_curves(history: list[dict], out_dir: str | Path, select: str) -> None:
    """loss.png (train/val), metrics.png (train acc, val acc/F1), lr.png, from the per-epoch history."""
    if not history:
        return
    out_dir = Path(out_dir)
    ep = [h["epoch"] for h in history]

    def col(k):
        return [h.get(k, np.nan) if h.get(k) is not None else np.nan for h in history]

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ep, col("train_loss"), "o-", label="train")
    ax.plot(ep, col("val_loss"), "o-", label="val")
    ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax.legend()
    _save(fig, out_dir / "loss.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ep, col("train_acc"), "o-", label="train acc")
    for k in dict.fromkeys(("val_acc", "val_macro_f1", f"val_{select}")):
        ax.plot(ep, col(k), "o-", label=k.replace("_", " "))
    ax.set(xlabel="epoch", ylabel="score", ylim=(0, 1.02), title="Metrics")
    ax.legend()
    _save(fig, out_dir / "metrics.png")

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(ep, col("lr"), "o-")
    ax.set(xlabel="epoch", ylabel="learning rate", title="LR", yscale="log")
    _save(fig, out_dir / "lr.png")


def plot_confusion(confusion: list[list[int]], names: list[str], path: str | Path, title: str) -> None:
    """Row-normalised confusion matrix (each true class sums to 1)."""
    cm = np.asarray(confusion, dtype=float)
    cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    n = len(names)
    side = min(3 + 0.35 * n, 24)
    fig, ax = plt.subplots(figsize=(side, side))
    im = ax.imshow(cm, vmin=0, vmax=1, cmap="Blues")
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if cm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    _save(fig, Path(path))


def plot_per_class_f1(per_class: dict[str, float], path: str | Path, title: str) -> None:
    """Horizontal bars of F1 per class, worst at the top."""
    items = sorted(per_class.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6, min(2 + 0.25 * len(items), 30)))
    ax.barh([k for k, _ in items], [v for _, v in items], color="tab:blue")
    ax.set(xlim=(0, 1), xlabel="F1", title=title)
    ax.tick_params(axis="y", labelsize=7)
    _save(fig, Path(path))
