"""`data.prepare` recipes: materialise an ablation's train/test folders under the cache (never in the repo).

- demo: the embedded MNIST digits; a seeded held-out test set per class, a long-tailed train set from the rest.
- cifar10_subset: the shared CIFAR-10 JPEG archive extracted once; a seeded N-per-class train subset; its test set.
- photos30: the shared photos30 archive (long-tailed photos of varied sizes) extracted once; its train and test.
Subsets are folders of symlinks (no copies), named by their recipe so two configs never share a wrong one.
"""
from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import numpy as np

from augment.demo_data import export_mnist, imbalanced_counts
from augment.images import is_image_file
from common.atomic import atomic_dir, write_json
from common.errors import UserError
from common.paths import cache_root
from experiments.config import resolve_path




def prepare_data(recipe: dict, cache: Path | None = None) -> dict:
    """Run a recipe; return {'train': folder, 'test': folder}."""
    cache = Path(cache or cache_root())
    kind = recipe.get("kind")
    opts = {k: v for k, v in recipe.items() if k != "kind"}
    try:
        if kind == "demo":
            return prepare_demo(cache, **opts)
        if kind == "cifar10_subset":
            return prepare_cifar10_subset(cache, **opts)
        if kind == "photos30":
            return prepare_photos30(cache, **opts)
    except TypeError as e:  # an unknown recipe key
        raise UserError(f"config data.prepare ({kind}): {e}; see experiments/data_prep.py for the keys") from None
    raise UserError(f"config data.prepare.kind {kind!r}: use demo, cifar10_subset or photos30")


def prepare_demo(cache: Path, largest: int = 200, imbalance: float = 10.0, test_per_class: int = 100,
                 seed: int = 0) -> dict:
    """MNIST demo digits: `test_per_class` held out per digit, then a long tail from `largest` down by `imbalance`."""
    full = cache / "mnist-demo" / "all"
    if not (full / "SOURCE.json").exists():
        export_mnist(full)  # all 5,000 digits, 500 per class
    key = f"lt{imbalance:g}-max{largest}-test{test_per_class}-seed{seed}"
    out = cache / "mnist-demo" / key
    if not (out / "DONE.json").exists():
        classes = _classes(full)
        counts = imbalanced_counts(len(classes), largest, imbalance)
        _split_holdout(full, out, classes, test_per_class, dict(zip(classes, counts)), seed)
    return {"train": str(out / "train"), "test": str(out / "test")}


def prepare_cifar10_subset(cache: Path, archive: str = "../shared/data/cifar10-jpg.tar.gz", per_class: int = 100,
                           imbalance: float = 1.0, seed: int = 0, reference_per_class: int = 0) -> dict:
    """CIFAR-10: `per_class` seeded train images per class (optionally long-tailed), tested on the full test set;
    with `reference_per_class`, a balanced reference set too (gen.reference: the judge of every class), drawn from
    the training images outside the subset."""
    root = extract_cifar10(resolve_path(archive), cache)
    key = f"train-{per_class}pc-lt{imbalance:g}-seed{seed}"
    out = cache / "cifar10-subsets" / key
    _cifar10_subset(root, out, archive, per_class, imbalance, seed)
    made = {"train": str(out), "test": str(root / "test")}
    if reference_per_class:
        ref = cache / "cifar10-subsets" / f"{key}-reference{reference_per_class}"
        if not (ref / "DONE.json").exists():
            rng = np.random.default_rng(seed + 1)
            with atomic_dir(ref) as tmp:
                for c in _classes(out):
                    used = {p.name for p in (out / c).iterdir()}
                    rest = [f for f in _images(root / "train" / c) if f.name not in used]
                    for f in sorted(rng.choice(rest, size=min(reference_per_class, len(rest)), replace=False)):
                        _link(f, tmp / c / f.name)
                write_json(tmp / "DONE.json", {"outside": key, "per_class": reference_per_class, "seed": seed + 1})
        made["reference"] = str(ref)
    return made


def _cifar10_subset(root: Path, out: Path, archive: str, per_class: int, imbalance: float, seed: int) -> None:
    """The seeded (long-tailed) subset as a folder of links, made once."""
    if not (out / "DONE.json").exists():
        classes = _classes(root / "train")
        counts = dict(zip(classes, imbalanced_counts(len(classes), per_class, imbalance)))
        rng = np.random.default_rng(seed)
        with atomic_dir(out) as tmp:
            for c in classes:
                files = _images(root / "train" / c)
                if counts[c] > len(files):
                    raise UserError(f"data.prepare per_class {per_class}: class {c} has only {len(files)} images")
                for f in sorted(rng.choice(files, size=counts[c], replace=False)):
                    _link(f, tmp / c / f.name)
            write_json(tmp / "DONE.json", {"archive": archive, "per_class": counts, "seed": seed})


def prepare_photos30(cache: Path, archive: str = "../shared/data/photos30.tar.gz") -> dict:
    """photos30 (30 long-tailed classes of photos of varied sizes): its train folder, and its held-out test folder."""
    root = extract_archive(resolve_path(archive), cache, "photos30")
    return {"train": str(root / "train"), "test": str(root / "test")}


def extract_cifar10(archive: str, cache: Path) -> Path:
    """Extract the CIFAR-10 archive once into cache/cifar10."""
    return extract_archive(archive, cache, "cifar10")


def extract_archive(archive: str, cache: Path, name: str) -> Path:
    """Extract an archive holding `name`/{train,test}/<class>/ once into cache/`name` (atomically: a killed
    extraction is redone)."""
    root = cache / name
    if (root / ".extracted").exists() or _looks_complete(root):
        return root  # ours, or the README's `tar -xzf ... -C ~/.cache/synthmix` (never delete someone's copy)
    if not Path(archive).is_file():
        raise UserError(f"data.prepare archive {archive}: not found; point it at {name}'s .tar.gz "
                        "(../shared/data/ relative to the repo root)")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{name}.extracting"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    if root.exists():
        shutil.rmtree(root)
    os.replace(tmp / name, root)
    shutil.rmtree(tmp, ignore_errors=True)
    (root / ".extracted").write_text(archive + "\n")
    return root


def _looks_complete(root: Path) -> bool:
    """Both splits there, with the same non-empty class folders."""
    try:
        train, test = _classes(root / "train"), _classes(root / "test")
    except OSError:
        return False
    return bool(train) and train == test and all(any((root / "test" / c).iterdir()) for c in test)


def _split_holdout(src: Path, out: Path, classes: list[str], test_per_class: int, train_counts: dict, seed: int):
    """Per class: a seeded permutation; the first `test_per_class` go to test, the next N to train (disjoint)."""
    rng = np.random.default_rng(seed)
    with atomic_dir(out) as tmp:
        for c in classes:
            files = _images(src / c)
            need = test_per_class + train_counts[c]
            if need > len(files):
                raise UserError(f"data.prepare: class {c} has {len(files)} images, needs {need} (test + train)")
            perm = [files[i] for i in rng.permutation(len(files))]
            for f in perm[:test_per_class]:
                _link(f, tmp / "test" / c / f.name)
            for f in perm[test_per_class:need]:
                _link(f, tmp / "train" / c / f.name)
        write_json(tmp / "DONE.json", {"source": str(src), "test_per_class": test_per_class,
                                       "train_per_class": train_counts, "seed": seed})


def _classes(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(Path(src).resolve(), dst)
