"""Stratified train/val split by label (scikit-learn), seeded; classes too small to split stay in train."""
from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from common.errors import UserError


def stratified_split(df: pd.DataFrame, val_fraction: float = 0.2, seed: int = 0
                     ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Split a labelled manifest; returns (train, val, classes kept whole in train because they are too small)."""
    if not 0.0 < val_fraction < 1.0:
        raise UserError(f"--val {val_fraction}: must be a fraction between 0 and 1, e.g. 0.2")
    counts = df["label"].value_counts()
    # A class needs at least one image on each side; smaller ones stay in train and are reported.
    too_small = sorted(c for c, n in counts.items() if n < 2 or round(n * val_fraction) < 1)
    small = df["label"].isin(too_small)
    rest = df[~small]
    if rest.empty:
        raise UserError("every class is too small to split; pass --val-data with a separate validation set")
    n_val = max(int(round(len(rest) * val_fraction)), rest["label"].nunique())
    n_val = min(n_val, len(rest) - rest["label"].nunique())
    train, val = train_test_split(rest, test_size=n_val, stratify=rest["label"], random_state=seed)
    train = pd.concat([train, df[small]]).sort_index()
    return train.reset_index(drop=True), val.sort_index().reset_index(drop=True), too_small
