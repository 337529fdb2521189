"""A reference judge (issue 30): the agreement classifier trained once on balanced real images that no ablation arm
trains on, so a generator's rare classes are judged as well as its common ones.

A run's own judge (gen.judge) learns from the run's long-tailed reals and is weakest exactly on the rare classes;
this one learns from a set with every class equally present (for CIFAR-10: training images outside the ablation's
subset, data.prepare's `reference_per_class`). It is the same small CNN, trained at the generator's size, cached by
the set's files and the size, so every generator of a grid is judged by the same one.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from common.errors import UserError


def _key(df, data: str, size: int, names: list[str]) -> str:
    """The judge's identity: the set's resolved path and file list, the size it sees and the classes in their order
    (its output indices)."""
    listing = json.dumps([str(Path(data).resolve()), size, list(names),
                          sorted(zip(df["path"].astype(str), df["label"]))])
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def reference_judge(data: str, size: int, names: list[str], cache: Path, seed: int = 0):
    """((net, info, class_names), real features) of the judge trained on `data` at `size` px (cached in `cache`).

    The set must hold every class of `names` (the GAN's) and be balanced within a factor of 2."""
    from augment.labels import LabelMap
    from augment.spec import DataSpec, load_dataset
    from gen.judge import load_judge, load_real_features, real_features, save_judge, train_judge
    from gen.data import load_real_images

    df, _ = load_dataset(DataSpec(data=data), label_map=None, progress=False)
    path = Path(cache) / "reference-judges" / f"{_key(df, data, size, names)}.pt"
    if not path.is_file():
        counts = df["label"].value_counts()
        missing = [c for c in names if c not in counts.index]
        if missing:
            raise UserError(f"--reference {data}: no images of {', '.join(missing)}; a reference set needs every "
                            "class of the GAN")
        if counts.max() > 2 * counts.min():
            raise UserError(f"--reference {data}: {counts.idxmax()} has {counts.max()} images, {counts.idxmin()} "
                            f"{counts.min()}; a reference set is balanced (the judge must know every class as well)")
        lm = LabelMap.from_labels(list(names))
        df = df[df["label"].isin(names)]
        real = load_real_images(df, lm, size, progress=False)
        net, info = train_judge(real.images, real.targets, len(names), seed=seed)
        info["data"] = str(Path(data).resolve())
        save_judge(path, net, info, names, real_features(net, real.images, real.targets, names))
    return load_judge(path), load_real_features(path)


def reference_quality(fakes: dict, reference, data: str) -> dict:
    """Per-class agreement and coverage of uint8 fakes by the reference judge (`reference_judge`'s value, made
    from `data`), with their minima and means."""
    from gen.quality import class_quality

    judge, feats = reference
    q = class_quality(fakes, judge, None, feats)
    per = {c: {k: r[k] for k in ("agreement", "coverage", "density") if k in r} for c, r in q["per_class"].items()}
    agree = [r["agreement"] for r in per.values() if "agreement" in r]
    return {"data": str(Path(data).resolve()), "judge_real_acc": judge[1].get("real_acc"), "per_class": per,
            "agreement_min": min(agree, default=None), "agreement_mean": q.get("agreement_mean"),
            "coverage_min": q.get("coverage_min"), "coverage_mean": q.get("coverage_mean"),
            "judge": "small CNN trained once on the balanced reference set (gen.reference); never saw a fake"}
