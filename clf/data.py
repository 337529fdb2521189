"""Training data for a classifier run: train/val/test manifests, real + synthetic mixing, loaders."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from augment.datasets import ManifestDataset, class_balanced_weights
from augment.labels import LabelMap
from augment.presets import seed_worker_transform
from augment.spec import DataSpec, load_dataset
from common.errors import UserError


@dataclass
class Frames:
    """The manifests of one run; `train` may hold synthetic rows, `val` and `test` never do."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame | None
    label_map: LabelMap
    kept_in_train: list[str]


def load_synth(synth: str, label_map: LabelMap, skip_bad: bool, progress: bool, filter: str = "none",
               scorer: str | None = None) -> pd.DataFrame:
    """A synth folder's manifest.csv (written by `synth`), validated against the run's classes; with a filter, the
    images it keeps, scored by `scorer` (a classifier run on the real images) or by the manifest's score column."""
    from augment.mixing import parse_filter, select_synthetic

    manifest = Path(synth) / "manifest.csv"
    if not manifest.is_file():
        raise UserError(f"--synth {synth}: no manifest.csv there; pass the folder `synth` wrote")
    df, _ = load_dataset(DataSpec(str(manifest), path_column="path", label_column="label", skip_bad=skip_bad),
                         label_map=label_map, progress=progress)
    if parse_filter(filter) != "none":
        if scorer:
            from clf.predict import score_manifest

            df = score_manifest(df, scorer)
        elif "score" not in df:
            raise UserError(f"--synth-filter {filter}: {manifest} has no score column; pass --synth-scorer RUN "
                            "(a classifier trained on the real images) to score the synthetic images")
        else:
            df["score"] = pd.to_numeric(df["score"], errors="coerce")  # the CSV's cells are text
            if df["score"].isna().any():
                raise UserError(f"--synth-filter {filter}: {manifest} has a missing or non-numeric score for "
                                f"{int(df['score'].isna().sum())} image(s); score every row, or pass --synth-scorer RUN")
        df = select_synthetic(df, filter).reset_index(drop=True)
    return df.assign(source="synthetic")


def check_mix(synth: str | None, ratio: float | None, balance: bool) -> None:
    """--synth goes with exactly one of --ratio R or --balance."""
    if synth and ratio is None and not balance:
        raise UserError("--synth needs --ratio R (R × each class's real count) or --balance")
    if not synth and (ratio is not None or balance):
        raise UserError("--ratio/--balance need --synth DIR (a folder written by `synth`)")


def load_frames(spec: DataSpec, val_data: str | None, val_fraction: float, test_data: str | None,
                synth: str | None, ratio: float | None, balance: bool, seed: int,
                label_map: LabelMap | None = None, report_dir: str | Path | None = None,
                progress: bool = True, synth_filter: str = "none", synth_scorer: str | None = None) -> Frames:
    """Real train/val(/test) frames; with `synth`, train gets ratio × real count (or balance) synthetic images."""
    from augment.mixing import mix
    from augment.split import stratified_split

    check_mix(synth, ratio, balance)
    full, lm = load_dataset(spec, label_map=label_map, report_dir=report_dir, progress=progress)
    lm = label_map or lm
    check_learnable(lm, spec.data)
    kept: list[str] = []
    if val_data:
        train = full.reset_index(drop=True)
        val, _ = load_dataset(replace(spec, data=val_data), label_map=lm, progress=progress)
    else:
        train, val, kept = stratified_split(full, val_fraction, seed)
    test = None
    if test_data:
        test, _ = load_dataset(replace(spec, data=test_data), label_map=lm, progress=progress)
    if synth:
        pool = load_synth(synth, lm, spec.skip_bad, progress, synth_filter, synth_scorer)
        train = mix(train, pool, ratio=ratio, balance=balance, seed=seed)
    return Frames(train, val.reset_index(drop=True), None if test is None else test.reset_index(drop=True), lm, kept)


def check_learnable(label_map: LabelMap, source: str) -> None:
    """A classifier needs two classes: trained on one, it answers that class for every image, whatever it sees."""
    if label_map.num_classes < 2:
        names = ", ".join(label_map.names) or "none"
        raise UserError(f"{source}: one class ({names}); a classifier needs at least two classes to learn anything "
                        "(on one it answers that class for every image); add images of another class")


def train_drop_last(n: int, batch_size: int, replicas: int = 1, drop_last: bool = False) -> bool:
    """Whether a training loader drops its last, short batch: always when asked (mixup pairs whole batches) and
    there is more than one batch, and whenever it would hold a single image (per process under DDP), because
    batch norm cannot normalise one value per channel (timm's training loader drops it for the same reason)."""
    per_replica = -(-n // replicas)  # DistributedSampler pads every process to the same count
    if per_replica <= 1:
        raise UserError(f"the training split holds {n} image(s){f' over {replicas} processes' if replicas > 1 else ''}"
                        "; batch norm needs at least two per batch; add images, or lower --val")
    return (drop_last and per_replica > batch_size) or per_replica % batch_size == 1


def class_counts(frames: Frames) -> dict:
    """{class: {"real": n, "synthetic": m, "val": v}} for config.json and metrics.json."""
    src = frames.train.get("source", pd.Series(["real"] * len(frames.train)))
    out = {}
    for name in frames.label_map.names:
        is_c = frames.train["label"] == name
        out[name] = {"real": int((is_c & (src != "synthetic")).sum()), "synthetic": int((is_c & (src == "synthetic")).sum()),
                     "val": int((frames.val["label"] == name).sum())}
    return out


def make_loader(df: pd.DataFrame, label_map: LabelMap, transform, batch_size: int, train: bool, workers: int,
                balanced: bool = False, drop_last: bool = False, seed: int = 0, pin: bool = False,
                replicas: int = 1, weights=None) -> DataLoader:
    """A DataLoader over a manifest; `balanced` draws classes equally often (WeightedRandomSampler).

    A training loader never hands batch norm a batch of one (`train_drop_last`); evaluation keeps every image.
    With `weights` (one loss weight per row) batches are (images, labels, weights).
    """
    ds = ManifestDataset(df, label_map, transform, weights)
    sampler = None
    if train and balanced:
        # No generator of its own: the sampler draws from the global torch RNG, which a checkpoint restores.
        sampler = WeightedRandomSampler(class_balanced_weights(ds.targets), len(ds), replacement=True)
    # Training workers start afresh each epoch and seed their augmentation from the loader's per-epoch seed (drawn
    # from the restored global RNG); persistent ones would carry epoch-0 streams a resumed run cannot rebuild.
    return DataLoader(ds, batch_size=batch_size, shuffle=train and sampler is None, sampler=sampler,
                      num_workers=workers, persistent_workers=workers > 0 and not train, pin_memory=pin,
                      # an eval loader's per-iterator seed comes from its own generator: creating its workers
                      # (once, or again after a resume) must not move the global RNG the training draws from
                      generator=None if train else torch.Generator().manual_seed(seed),
                      worker_init_fn=seed_worker_transform,
                      drop_last=train and train_drop_last(len(ds), batch_size, replicas, drop_last))


def minority_batches(df: pd.DataFrame, label_map: LabelMap, transform, batch_size: int, seed: int, rank: int = 0):
    """CMO's second loader (naver-ai/cmo get_weighted_sampler, alpha 1): epoch -> an endless iterator of full batches
    drawn with per-image weight 1/count(class), from a generator seeded by (seed, epoch, DDP rank), so a resume
    redraws them and each process pastes its own.

    In-process (no workers): the batches interleave with the main loader's on the same augmentation stream."""
    ds = ManifestDataset(df, label_map, transform)
    weights = class_balanced_weights(ds.targets)

    def batches(epoch: int):
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch + rank * 7_919)
        while True:
            sampler = WeightedRandomSampler(weights, len(ds), replacement=True, generator=g)
            yield from DataLoader(ds, batch_size=batch_size, sampler=sampler, drop_last=len(ds) >= batch_size)

    return batches


def train_counts(train: pd.DataFrame, label_map: LabelMap) -> list[int]:
    """Training images per class in the label map's order (real + synthetic: the prior the loss sees)."""
    return [int(n) for n in train["label"].astype(str).value_counts().reindex(list(label_map.names), fill_value=0)]


def synthetic_weights(train: pd.DataFrame, synth_weight: float):
    """Per-row loss weights: `synth_weight` for synthetic rows, 1 for real ones; None when all would be 1."""
    import numpy as np

    if synth_weight == 1.0 or "source" not in train:
        return None
    return np.where(train["source"].eq("synthetic"), synth_weight, 1.0)


def real_rows(train: pd.DataFrame) -> pd.DataFrame:
    """The real rows of a mixed training frame (what --real-last trains on at the end)."""
    if "source" not in train:
        return train
    return train[train["source"] != "synthetic"].reset_index(drop=True)


def phased_data(mixed: DataLoader, real: DataLoader, val: DataLoader, switch_epoch: int):
    """A LightningDataModule: the mixed loader before `switch_epoch`, the real-only one from it on (the trainer
    reloads loaders every epoch, and a resumed run asks at its restored epoch)."""
    import lightning.pytorch as pl

    class PhasedData(pl.LightningDataModule):
        def train_dataloader(self):
            return real if self.trainer.current_epoch >= switch_epoch else mixed

        def val_dataloader(self):
            return val

    return PhasedData()
