"""torch Datasets over manifests, and class-balanced sampling weights."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from augment.images import load_rgb
from augment.labels import LabelMap


class ManifestDataset(Dataset):
    """(image tensor, label index) per manifest row, (…, loss weight) with `weights`; label -1 for unlabeled rows."""

    def __init__(self, df: pd.DataFrame, label_map: LabelMap | None, transform: Callable | None = None,
                 weights: Sequence[float] | None = None):
        self.paths = df["path"].tolist()
        self.weights = None if weights is None else [float(w) for w in weights]
        labels = df["label"].tolist()
        self.targets = [(-1 if (lab is None or label_map is None or lab != lab) else label_map.index(lab))
                        for lab in labels]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        img = load_rgb(self.paths[i])
        if self.transform is not None:
            img = self.transform(image=img)["image"]
        else:
            img = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)
        return (img, self.targets[i]) if self.weights is None else (img, self.targets[i], self.weights[i])


def class_balanced_weights(targets: Sequence[int]) -> torch.Tensor:
    """Per-sample weights 1/count(class), for WeightedRandomSampler (rare classes drawn as often as common)."""
    t = np.asarray(targets)
    counts = np.bincount(t[t >= 0])
    w = np.where(t >= 0, 1.0 / np.maximum(counts[np.clip(t, 0, None)], 1), 0.0)
    return torch.as_tensor(w, dtype=torch.double)


def class_weights(targets: Sequence[int], num_classes: int) -> torch.Tensor:
    """Loss weights inversely proportional to class frequency, mean 1 (sklearn's 'balanced' rule)."""
    from sklearn.utils.class_weight import compute_class_weight

    t = np.asarray(targets)
    present = np.unique(t)
    w = np.ones(num_classes)
    w[present] = compute_class_weight("balanced", classes=present, y=t)
    return torch.as_tensor(w, dtype=torch.float32)
