"""Shared fixtures: tiny image datasets made on the fly."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import write_image

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def make_folder(tmp_path):
    """make_folder({'cat': 5, 'dog': 3}) → a class-per-folder dataset of small PNGs."""
    def make(counts: dict, root: Path | None = None, size=(12, 10), ext=".png") -> Path:
        root = root or tmp_path / "data"
        for k, (cls, n) in enumerate(counts.items()):
            for i in range(n):
                write_image(root / cls / f"{i:03d}{ext}", size=size, seed=1000 * k + i)
        return root
    return make
