"""Real images for GAN training: decoded once into a uint8 tensor, and drawn per step from a seed.

Small data is the point of SynthMix, so every image is resized to the GAN's size and kept in memory (5,000
images at 32 px are 15 MB; 30,000 at 128 px 1.5 GB): decoding PNGs every step would dominate a CPU run.
Batches are drawn from numpy's SeedSequence((seed, step, rank, model)): the data order depends only on the
step, so resuming needs no sampler state beyond the step, and each DDP rank draws its own batches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from augment.datasets import ManifestDataset, class_balanced_weights
from augment.labels import LabelMap


@dataclass
class RealImages:
    """All training images (N, 3, S, S) uint8 and their class indices (N,)."""

    images: torch.Tensor
    targets: torch.Tensor
    label_map: LabelMap

    def counts(self) -> list[int]:
        return np.bincount(self.targets.numpy(), minlength=self.label_map.num_classes).tolist()


def load_real_images(df: pd.DataFrame, label_map: LabelMap, size: int, upscale: str = "bicubic",
                     num_workers: int = 0, progress: bool = True) -> RealImages:
    """Decode and resize every image of the manifest once (albumentations' Resize, uint8 kept)."""
    import albumentations as A
    from common.progress import progress_bar

    from augment.presets import interpolation

    resize = A.Compose([A.Resize(size, size, interpolation=interpolation(upscale))])
    ds = ManifestDataset(df, label_map, transform=lambda image: {"image": _chw(resize(image=image)["image"])})
    loader = DataLoader(ds, batch_size=256, num_workers=num_workers, shuffle=False)
    images, targets = [], []
    for x, y in progress_bar(loader, desc="loading images", unit="batch", disable=not progress, leave=False):
        images.append(x)
        targets.append(y)
    return RealImages(torch.cat(images), torch.cat(targets).long(), label_map)


def _chw(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(img, copy=True)).permute(2, 0, 1)  # PIL arrays are read-only


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (the generator's tanh range)."""
    return x.float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255]."""
    return x.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


class StepSampler:
    """Batch indices for (step, model): class-balanced over all classes, or uniform within one class.

    `model` is None for the conditional GAN (balanced: each image drawn with weight 1/count(its class), so rare
    classes appear as often as common ones), or a class index for that class's per-class GAN.
    """

    def __init__(self, targets: torch.Tensor, batch: int, seed: int, rank: int = 0):
        self.batch, self.seed, self.rank = batch, seed, rank
        t = targets.numpy()
        w = class_balanced_weights(t).numpy()
        self.p_all = w / w.sum()
        self.by_class = [np.flatnonzero(t == k) for k in range(int(t.max()) + 1)] if len(t) else []

    def indices(self, step: int, model: int | None = None, sub: int = 0) -> np.ndarray:
        """The batch of D step `sub` of G step `step` (sub > 0 only with several D steps per G step)."""
        key = [self.seed, step, self.rank, 0 if model is None else model + 1] + ([sub] if sub else [])
        rng = np.random.default_rng(key)
        if model is None:
            return rng.choice(len(self.p_all), size=self.batch, p=self.p_all)
        return rng.choice(self.by_class[model], size=self.batch)
