"""Inference: class probabilities for images (with test-time augmentation), `predict`, and `load_scorer`."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from common.errors import UserError

TTA = ("hflip", "vflip", "shift")


def check_tta(tta: Sequence[str]) -> tuple[str, ...]:
    bad = [t for t in tta if t not in TTA]
    if bad:
        raise UserError(f"--tta {','.join(bad)}: unknown; choose from {', '.join(TTA)} (comma-separated)")
    return tuple(tta)


def eval_transform(data_cfg: dict):
    """The evaluation pipeline the run was validated with (resize + normalise)."""
    from augment.presets import create_transform

    return create_transform("none", data_cfg["size"], is_training=False, mean=tuple(data_cfg["mean"]),
                            std=tuple(data_cfg["std"]), upscale=data_cfg.get("upscale", "bicubic"))


def tta_views(x: torch.Tensor, tta: Sequence[str]) -> list[torch.Tensor]:
    """The batch and its test-time views: hflip, vflip, and shift (airbench's translate: the image moved one pixel
    up-left and one down-right, reflect-padded; each also mirrored when hflip is asked for)."""
    views = [x]
    if "shift" in tta:
        pad = F.pad(x, (1, 1, 1, 1), mode="reflect")
        h, w = x.shape[-2:]
        views += [pad[..., :h, :w], pad[..., 2:, 2:]]
    if "hflip" in tta:
        views += [v.flip(-1) for v in views]
    if "vflip" in tta:
        views.append(x.flip(-2))
    return views


@torch.no_grad()
def _probs_of_batch(model, x: torch.Tensor, tta: Sequence[str], amp: bool) -> torch.Tensor:
    views = tta_views(x, tta)
    with torch.autocast(x.device.type, enabled=amp):
        return torch.stack([model(v).float().softmax(1) for v in views]).mean(0)


@torch.no_grad()
def predict_probs(model: torch.nn.Module, df: pd.DataFrame, data_cfg: dict, device: torch.device,
                  tta: Sequence[str] = (), batch_size: int = 64, workers: int = 0, progress: bool = False,
                  label_map=None) -> np.ndarray:
    """(N, classes) probabilities for a manifest's images, averaged over the TTA views."""
    from augment.datasets import ManifestDataset
    from common.device import use_amp

    ds = ManifestDataset(df.assign(label=None), None, eval_transform(data_cfg))
    loader = DataLoader(ds, batch_size=batch_size, num_workers=workers, shuffle=False)
    model.eval().to(device)
    out = []
    it = loader
    if progress:
        from common.progress import progress_bar

        it = progress_bar(loader, desc="predict", unit="batch", leave=False)
    for x, _ in it:
        out.append(_probs_of_batch(model, x.to(device), tta, use_amp(device)).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0))


def image_frame(images: str | Path, skip_bad: bool = False, check: bool = False, progress: bool = False
                ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Every image under a folder (recursive), its key (the path relative to that folder), and skipped keys.

    With `check`, every file is opened first: an unreadable one is refused before minutes of prediction, or,
    with `skip_bad`, left out and listed.
    """
    from augment.manifest import from_unlabeled
    from augment.validate import validate

    df = from_unlabeled(images)
    root = Path(images).resolve()
    key = {p: Path(p).relative_to(root).as_posix() for p in df["path"]}
    skipped: list[str] = []
    if check:
        clean = validate(df, skip_bad=skip_bad, quiet=True, progress=progress)
        kept = set(clean["path"])
        skipped = [key[p] for p in df["path"] if p not in kept]
        df = clean
    return df, [key[p] for p in df["path"]], skipped


@dataclass
class Predictions:
    """What run_predict found: one row of `probs` per key, the label form and labels, the skipped files."""

    keys: list[str]
    probs: np.ndarray
    form: str
    labels: list
    skipped: list[str]


def run_predict(model_path: str, images: str, tta: Sequence[str] = (), which: str = "auto", batch_size: int = 64,
                device: str = "auto", workers: int = 0, progress: bool = True, label_as: str | None = None,
                skip_bad: bool = False, posthoc_la: float | None = None) -> Predictions:
    """Class probabilities for every readable image in a folder, with the labels to write them in.

    The label form is settled (and refused, e.g. `id` for a run without ids) and every image is opened
    before any is predicted.
    """
    from clf.checkpoint import load_trained
    from common.device import pick_device

    check_tta(tta)
    dev = pick_device(device)
    tm = load_trained(model_path, which, dev, posthoc_la)
    form = tm.label_map.form(label_as)
    labels = tm.label_map.labels_as(form)
    df, keys, skipped = image_frame(images, skip_bad, check=True, progress=progress)
    probs = predict_probs(tm.model, df, tm.data_config, dev, tta, batch_size, workers, progress)
    if skipped:
        print(f"skipped {len(skipped)} unreadable images: {', '.join(skipped[:10])}"
              + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""))
    return Predictions(keys, probs, form, labels, skipped)


def predict(opts) -> dict:
    """`predict`: {file: label} in the form opts.label_as names, written to opts.out (JSON) and probs.csv.

    preds.json is {"label_as": form, "predictions": {file: label}}; probs.csv's class columns are headed
    `<form>:<label>` (e.g. id:17), so neither file can be read in the wrong form.
    """
    from clf.options import PREDICT_RANGES
    from common.atomic import atomic_path, write_json
    from common.outputs import check_out_file
    from common.ranges import check_ranges

    check_ranges(opts, PREDICT_RANGES)
    if not opts.out and not opts.probs:
        raise UserError("predict: nothing to write; give --out preds.json and/or --probs probs.csv")
    for option, path in (("--out", opts.out), ("--probs", opts.probs)):
        if path:
            check_out_file(path, option)
    p = run_predict(opts.model, opts.images, opts.tta, opts.checkpoint, opts.batch_size, opts.device, opts.workers,
                    label_as=opts.label_as, skip_bad=opts.skip_bad, posthoc_la=opts.posthoc_la)
    keys, probs, form, labels = p.keys, p.probs, p.form, p.labels
    preds = {k: labels[i] for k, i in zip(keys, probs.argmax(1))}
    if opts.out:
        write_json(opts.out, {"label_as": form, "predictions": preds, "skipped": p.skipped})
    if opts.probs:
        with atomic_path(opts.probs) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", *(f"{form}:{v}" for v in labels)])
            for k, row in zip(keys, probs):
                w.writerow([k, *(f"{p:.6f}" for p in row)])
    return preds


def load_scorer(run_dir: str | Path, which: str = "auto", device: str = "auto", batch_size: int = 128
                ) -> Callable[[torch.Tensor, str], torch.Tensor]:
    """A plain function `score(images_uint8_NCHW, class_name) -> (N,) probability of that class` (CPU tensor).

    Images go through the run's own eval transform (resize + normalise), exactly as in validation.
    """
    from clf.checkpoint import load_trained
    from common.device import pick_device, use_amp

    dev = pick_device(device)
    tm = load_trained(run_dir, which, dev)
    tf = eval_transform(tm.data_config)

    @torch.no_grad()
    def score(images: torch.Tensor, class_name: str) -> torch.Tensor:
        idx = tm.label_map.index(class_name)
        if images.ndim != 4 or images.shape[1] not in (1, 3) or images.dtype != torch.uint8:
            raise UserError(f"scorer: expected uint8 images (N, 3, H, W), got {images.dtype} {tuple(images.shape)}")
        arr = images.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).cpu().numpy()
        out = []
        for i in range(0, len(arr), batch_size):
            x = torch.stack([tf(image=np.ascontiguousarray(a))["image"] for a in arr[i:i + batch_size]]).to(dev)
            out.append(_probs_of_batch(tm.model, x, (), use_amp(dev))[:, idx].cpu())
        return torch.cat(out) if out else torch.zeros(0)

    score.label_map = tm.label_map  # handy for callers that list the classes
    return score


def score_manifest(df: pd.DataFrame, run_dir: str | Path, batch: int = 256) -> pd.DataFrame:
    """`df` (path, label rows) with a `score` column: the run's probability of each image's own class."""
    from augment.images import load_rgb

    score = load_scorer(run_dir)
    unknown = sorted(set(map(str, df["label"])) - set(score.label_map.names))
    if unknown:
        raise UserError(f"--synth-scorer {run_dir}: trained on {', '.join(score.label_map.names)}, not on "
                        f"{', '.join(unknown[:5])}; pass a classifier trained on this dataset's real images")
    df = df.reset_index(drop=True)
    scores = np.zeros(len(df))
    for label, idx in df.groupby("label").groups.items():
        idx = list(idx)
        for i in range(0, len(idx), batch):
            part = idx[i:i + batch]
            x = torch.stack([torch.from_numpy(load_rgb(df.at[k, "path"]).copy()).permute(2, 0, 1) for k in part])
            scores[part] = score(x, str(label)).numpy()
    return df.assign(score=scores)
