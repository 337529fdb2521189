"""Fixtures for the GAN tests: tiny class-per-folder datasets and tiny-width GAN options (CPU, seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest

from augment.spec import DataSpec
from gen.options import GanOptions
from tests.helpers import write_image


@pytest.fixture
def gan_data(tmp_path):
    """gan_data({'cat': 6, 'dog': 4}) -> a folder of small random PNGs, one subfolder per class."""
    def make(counts: dict | None = None, name: str = "data") -> Path:
        root = tmp_path / name
        for k, (cls, n) in enumerate((counts or {"cat": 6, "dog": 4}).items()):
            for i in range(n):
                write_image(root / cls / f"{i:03d}.png", size=(12, 10), seed=1000 * k + i)
        return root
    return make


@pytest.fixture
def tiny_opts(tmp_path):
    """tiny_opts(data, **overrides) -> GanOptions with tiny widths, batch 4, 2 steps, quiet."""
    def make(data: Path, **kw) -> GanOptions:
        base = dict(data=DataSpec(data=str(data)), out=str(tmp_path / "runs"), size=32, steps=2, batch=4,
                    nz=16, ngf=8, ndf=8, snapshot_every=2, log_every=1, min_class_images=4, judge_steps=5,
                    progress=False)
        base.update(kw)
        return GanOptions(**base)
    return make


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread, and the test machine's cores are shared."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
