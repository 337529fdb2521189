"""Tiny data and runs for the classifier tests: colour-coded classes at 24 px, trained on CPU in seconds."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

COLOURS = {"blue": (30, 30, 210), "green": (30, 200, 30), "red": (210, 30, 30)}


def write_images(root: Path, counts: dict[str, int], seed: int = 0, size: int = 24, prefix: str = "") -> list[Path]:
    """Noisy solid-colour PNGs, one subfolder per class."""
    rng = np.random.default_rng(seed)
    files = []
    for cls, n in counts.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = np.clip(np.array(COLOURS[cls]) + rng.normal(0, 35, (size, size, 3)), 0, 255).astype(np.uint8)
            f = root / cls / f"{prefix}{cls}{i:03d}.png"
            Image.fromarray(a).save(f)
            files.append(f)
    return files


@pytest.fixture(scope="session")
def toy(tmp_path_factory) -> dict[str, Path]:
    """train/ (imbalanced 12/8/6), test/ (4 per class, labelled), flat/ (unlabelled copies of test)."""
    root = tmp_path_factory.mktemp("toy")
    write_images(root / "train", {"blue": 12, "green": 8, "red": 6}, seed=0)
    test = write_images(root / "test", {c: 4 for c in COLOURS}, seed=1)
    (root / "flat").mkdir()
    for f in test:
        os.link(f, root / "flat" / f.name)
    return {"root": root, "train": root / "train", "test": root / "test", "flat": root / "flat"}


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A synth folder as `synth` writes it: DIR/<class>/seedNNNN.png + manifest.csv (10 per class)."""
    root = tmp_path_factory.mktemp("synth")
    files = write_images(root, {c: 10 for c in COLOURS}, seed=2, prefix="seed")
    pd.DataFrame({"path": [str(f) for f in files], "label": [f.parent.name for f in files], "category": "",
                  "source": "synthetic", "gan_run": "runs/00000-cgan", "checkpoint": "G.pt",
                  "seed": range(len(files))}).to_csv(root / "manifest.csv", index=False)
    return root


def tiny_options(data: Path, out: Path, **kw):
    """TrainOptions for a seconds-long CPU run of timm's `test_resnet` at 24 px."""
    from augment.spec import DataSpec
    from clf.options import TrainOptions

    base = dict(model="test_resnet", size=24, epochs=2, batch_size=8, lr=1e-2, warmup_epochs=0, workers=0,
                progress=False, out=str(out), aug="flip")
    base.update(kw)
    return TrainOptions(data=DataSpec(str(data)), **base)


@pytest.fixture(scope="session")
def trained_run(toy, tmp_path_factory) -> Path:
    """One finished run (with a test set), shared by the prediction and export tests."""
    from clf.train import train

    out = tmp_path_factory.mktemp("runs")
    return train(tiny_options(toy["train"], out, test_data=str(toy["test"]), epochs=3))
