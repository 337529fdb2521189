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


def load_synth(synth: str, label_map: LabelMap, skip_bad: bool, progress: bool) -> pd.DataFrame:
    """A synth folder's manifest.csv (written by `synth`), validated against the run's classes."""
    manifest = Path(synth) / "manifest.csv"
    if not manifest.is_file():
        raise UserError(f"--synth {synth}: no manifest.csv there; pass the folder `synth` wrote")
    df, _ = load_dataset(DataSpec(str(manifest), path_column="path", label_column="label", skip_bad=skip_bad),
                         label_map=label_map, progress=progress)
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
                progress: bool = True) -> Frames:
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
        train = mix(train, load_synth(synth, lm, spec.skip_bad, progress), ratio=ratio, balance=balance, seed=seed)
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
                replicas: int = 1) -> DataLoader:
    """A DataLoader over a manifest; `balanced` draws classes equally often (WeightedRandomSampler).

    A training loader never hands batch norm a batch of one (`train_drop_last`); evaluation keeps every image.
    """
    ds = ManifestDataset(df, label_map, transform)
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
