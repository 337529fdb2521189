"""What a GAN run shows while it trains: image grids, the losses plot and the mode-collapse watch."""
from __future__ import annotations

from pathlib import Path

import torch

from common.atomic import atomic_path

COLLAPSE_RATIO = 0.25  # warn when a class's fakes are less than this fraction as diverse as its real images
FALL_RATIO = 0.5       # ... and less than this fraction of the most diverse they have been in this run
COLLAPSE_WARMUP = 500  # steps before which near-constant output means "not learned yet", so only a fall counts


def save_grid(path: str | Path, images: torch.Tensor, nrow: int) -> Path:
    """Images in [-1, 1] as one PNG grid, written atomically."""
    from torchvision.utils import save_image

    with atomic_path(path) as tmp:
        save_image(images.detach().float().cpu(), tmp, nrow=nrow, normalize=True, value_range=(-1, 1), padding=1,
                   format="png")
    return Path(path)


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean L2 distance between all pairs of a batch, per pixel (RMS), so sizes compare; 0 means identical."""
    flat = x.detach().float().flatten(1)
    if flat.shape[0] < 2:
        return 0.0
    return (torch.pdist(flat).mean() / flat.shape[1] ** 0.5).item()


def collapsed_classes(fake_div: dict[str, float], real_div: dict[str, float], peak_div: dict[str, float],
                      trained: bool = True) -> list[str]:
    """Classes whose fakes are far less diverse than their real images (below COLLAPSE_RATIO x).

    Before COLLAPSE_WARMUP steps (`trained` False) only a fall below FALL_RATIO x the peak so far counts: an
    untrained G's near-constant output is not a collapse. After that, low diversity counts even if it was never
    higher: a G that ignores z from the start is the common collapse of small conditional GANs.
    """
    return [c for c, d in fake_div.items()
            if real_div.get(c, 0) > 0 and d < COLLAPSE_RATIO * real_div[c]
            and (trained or d < FALL_RATIO * peak_div.get(c, 0))]


COVERAGE_FLOOR = 0.2  # a coverage peak below this says "not learned yet", too low to fall from


def coverage_fallen(coverage: dict[str, float], peak: dict[str, float]) -> list[str]:
    """Classes whose fakes now cover less than FALL_RATIO x the real images they covered at their best.

    The feature-space side of the watch: a G pulled onto a few easy-to-classify images of a class (ACGAN's failure)
    keeps its class and can keep pixel diversity (noise), but the real images it covers fall away.
    """
    return [c for c, v in coverage.items() if peak.get(c, 0) >= COVERAGE_FLOOR and v < FALL_RATIO * peak[c]]


def plot_losses(rows: list[dict], path: str | Path) -> Path | None:
    """losses.png: D and G loss and D's mean logits on real/fake against the step."""
    rows = [r for r in rows if "loss_d" in r]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    a.plot(steps, [r["loss_d"] for r in rows], label="D loss")
    a.plot(steps, [r["loss_g"] for r in rows], label="G loss")
    b.plot(steps, [r["d_real"] for r in rows], label="D(real)")
    b.plot(steps, [r["d_fake"] for r in rows], label="D(fake)")
    for ax in (a, b):
        ax.set_xlabel("step")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return Path(path)
