"""Augmentation preview: originals beside augmented copies."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from augment.images import load_rgb
from augment.plots import image_grid, save_figure
from augment.presets import create_transform
from augment.spec import DataSpec, load_dataset


def denormalize(t, mean, std) -> np.ndarray:
    """A normalised CHW tensor back to an HWC uint8 image for display."""
    x = t.numpy().transpose(1, 2, 0) * np.asarray(std) + np.asarray(mean)
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


def preview_grid(spec: DataSpec, out: str | Path, preset: str = "basic", size: int = 128, upscale: str = "bicubic",
                 n_images: int = 6, copies: int = 5, seed: int = 0) -> Path:
    """Write a PNG: per row an original image then `copies` augmented versions of it."""
    from common.outputs import check_out_file, check_outside
    from common.ranges import AT_LEAST_1, SEED, Range, check_ranges

    check_ranges(dict(size=size, n=n_images, copies=copies, seed=seed),
                 {"size": Range(8, why="smaller previews show nothing"), "n": AT_LEAST_1, "copies": AT_LEAST_1,
                  "seed": SEED})
    check_out_file(out)
    check_outside(out, {"--data": spec.data})
    df, _ = load_dataset(spec, progress=False)
    mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
    aug = create_transform(preset, size, is_training=True, mean=mean, std=std, upscale=upscale, seed=seed)
    plain = create_transform("none", size, is_training=False, mean=mean, std=std, upscale=upscale)
    rng = np.random.default_rng(seed)
    # One image from as many different classes as possible.
    firsts = df.groupby("label", sort=True).head(1)
    picks = firsts.sample(n=min(n_images, len(firsts)), random_state=seed) if len(firsts) >= n_images else \
        df.iloc[rng.choice(len(df), size=min(n_images, len(df)), replace=False)]
    rows, titles = [], []
    for path, label in zip(picks["path"], picks["label"]):
        img = load_rgb(path)
        rows.append([denormalize(plain(image=img)["image"], mean, std)] +
                    [denormalize(aug(image=img)["image"], mean, std) for _ in range(copies)])
        titles.append(str(label))
    fig = image_grid(rows, row_titles=titles, col_titles=["original"] + [f"{preset} #{i + 1}" for i in range(copies)],
                     title=f"preset '{preset}' at {size}px ({upscale})")
    return save_figure(fig, out)
