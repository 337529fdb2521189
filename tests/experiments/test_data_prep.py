"""data.prepare recipes: seeded, disjoint, cached subsets built from a (tiny, fake) CIFAR-style archive."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from common.errors import UserError
from experiments.data_prep import prepare_data
from tests.helpers import write_image


@pytest.fixture
def archive(tmp_path):
    src = tmp_path / "src" / "cifar10"
    for split, n in (("train", 6), ("test", 2)):
        for c in ("cat", "ship"):
            for i in range(n):
                write_image(src / split / c / f"{i:04d}.jpg", size=(8, 8), seed=i)
    path = tmp_path / "cifar10-jpg.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname="cifar10")
    return path


def test_cifar10_subset_is_seeded_cached_and_points_at_test(archive, tmp_path):
    cache = tmp_path / "cache"
    recipe = {"kind": "cifar10_subset", "archive": str(archive), "per_class": 4, "seed": 1}
    a = prepare_data(recipe, cache)
    assert Path(a["test"]) == cache / "cifar10" / "test"
    picked = sorted(p.name for p in (Path(a["train"]) / "cat").iterdir())
    assert len(picked) == 4 and all((Path(a["train"]) / "cat" / n).is_symlink() for n in picked)
    assert prepare_data(recipe, cache) == a  # cached: same folder, same files
    assert sorted(p.name for p in (Path(a["train"]) / "cat").iterdir()) == picked
    b = prepare_data({**recipe, "seed": 2}, cache)
    assert b["train"] != a["train"]
    ref = prepare_data({**recipe, "reference_per_class": 2}, cache)  # balanced, and outside the subset
    assert ref["train"] == a["train"] and ref["reference"] != a["train"]
    for c in ("cat", "ship"):
        held = {p.name for p in (Path(ref["reference"]) / c).iterdir()}
        assert len(held) == 2 and not held & {p.name for p in (Path(a["train"]) / c).iterdir()}
    with pytest.raises(UserError, match="only 6 images"):
        prepare_data({**recipe, "per_class": 7}, cache)
    with pytest.raises(UserError, match="keys"):
        prepare_data({**recipe, "per_klass": 3}, cache)


def test_photos30_is_extracted_once_with_its_held_out_test_folder(tmp_path):
    src = tmp_path / "src" / "photos30"
    for split, n in (("train", 3), ("test", 1)):
        for c in ("ant", "bonsai"):
            for i in range(n):
                write_image(src / split / c / f"{i:04d}.jpg", size=(20 + i, 12), seed=i)
    path = tmp_path / "photos30.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname="photos30")
    cache = tmp_path / "cache"
    got = prepare_data({"kind": "photos30", "archive": str(path)}, cache)
    assert got == {"train": str(cache / "photos30" / "train"), "test": str(cache / "photos30" / "test")}
    assert len(list((cache / "photos30" / "train" / "bonsai").iterdir())) == 3
    path.unlink()  # extracted once: the archive is not read again
    assert prepare_data({"kind": "photos30", "archive": str(path)}, cache) == got
    with pytest.raises(UserError, match="not found; point it at photos30's"):
        prepare_data({"kind": "photos30", "archive": str(path)}, tmp_path / "other")
