"""`make demo`: the main job on the embedded MNIST digits, each stage skipped when its output exists."""
from __future__ import annotations

from pathlib import Path

import click

from augment.demo_data import export_mnist
from augment.eda import inspect_dataset
from augment.preview import preview_grid
from augment.spec import DataSpec

DEMO_IMBALANCE = 10.0  # digits 0..9 thinned from 500 to 50 images: a small long-tailed set


def _stage(title: str, done: Path, fn) -> None:
    if done.exists():
        click.echo(f"[demo] {title}: done already ({done})")
        return
    click.echo(f"[demo] {title} ...")
    fn()


def run_demo(out: str | Path) -> Path:
    """Export the digits, inspect them, preview augmentations; return the demo folder."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    _stage("export the demo digits", data, lambda: export_mnist(data, imbalance=DEMO_IMBALANCE))
    spec = DataSpec(str(data))
    _stage("inspect the data", out / "eda" / "summary.json", lambda: inspect_dataset(spec, out / "eda"))
    _stage("preview augmentations", out / "eda" / "augment_preview.png",
           lambda: preview_grid(spec, out / "eda" / "augment_preview.png", preset="basic", size=64))
    click.echo(f"[demo] done: see {out}")
    return out
