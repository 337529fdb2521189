"""`make demo`: the main job on the embedded MNIST digits, end to end, each stage skipped when already done.

Data (a long-tailed split of the 5,000 digits) → EDA → augmentation preview → the demo ablation
(conditional GAN with KID/FID over steps, synth for every class, FID/KID, classifier grid with seeds, CAS)
→ one report.md. The ablation is `experiments/configs/demo.yaml`, so the demo and `cli.py ablate` agree.
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from augment.eda import inspect_dataset
from augment.preview import preview_grid
from augment.spec import DataSpec
from experiments.ablate import AblateOptions, ablation_dir, run_ablation
from experiments.cells import load_ablation_config
from experiments.config import REPO_ROOT
from experiments.data_prep import prepare_data

DEMO_CONFIG = REPO_ROOT / "experiments" / "configs" / "demo.yaml"


def _stage(title: str, done: Path, fn) -> None:
    if done.exists():
        click.echo(f"[demo] {title}: done already ({done})")
        return
    t0 = time.time()
    click.echo(f"[demo] {title} ...")
    fn()
    click.echo(f"[demo] {title}: {time.time() - t0:.0f} s")


def run_demo(out: str | Path, config: str | Path = DEMO_CONFIG) -> Path:
    """Run every stage into `out`; return the path of report.md."""
    from experiments.demo_report import write_demo_report

    from common.outputs import check_out_dir

    t0 = time.time()
    out = check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_ablation_config(config)
    click.echo(f"[demo] data: {cfg.data.prepare}")
    paths = prepare_data(cfg.data.prepare)
    spec = DataSpec(paths["train"])
    eda = out / "eda"
    _stage("inspect the data", eda / "summary.json", lambda: inspect_dataset(spec, eda))
    _stage("preview augmentations", eda / "augment_preview.png",
           lambda: preview_grid(spec, eda / "augment_preview.png", preset=cfg.augs[0], size=64))
    folder = ablation_dir(out, cfg)
    _stage("GAN, synthetic images, FID/KID and the classifier grid (the demo ablation)", folder / "summary.md",
           lambda: run_ablation(AblateOptions(config=str(config), out=str(out), resume=True)))
    report = write_demo_report(out, folder, eda, paths)
    click.echo(f"[demo] done in {time.time() - t0:.0f} s: open {report}")
    return report
