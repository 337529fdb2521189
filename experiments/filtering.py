"""The filter axis: keep a synthetic image only when a classifier trained on the real training split gives its
class at least p ('0.8'), or when it is among its class's best-scored fraction q ('top0.5'). One pool is generated
and scored once; each filter is a manifest over it (rather than `synth --min-confidence` per threshold), so the arms
differ only in the filter.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from experiments.cells import CellInputs, train_options
from experiments.config import AblationConfig
from experiments.grid import Cell
from experiments.jobs import Job

RunOnce = Callable[[Job, Path, str], str]  # (job, marker file, what to say) → the run folder, made the first time


def filter_options(cfg: AblationConfig, folder: Path, prepared: dict):
    """The real-data classifier's TrainOptions: the grid's classifier, ratio 0, first preset and pretrained value,
    seed 0."""
    inputs = CellInputs(prepared["train"], prepared["test"], cfg.data.val, prepared.get("val_data"), None)
    return train_options(Cell("mix", "0", cfg.augs[0], cfg.pretrained[0], 0), inputs, cfg, folder / "filter_clf")


def filter_classifier(cfg: AblationConfig, folder: Path, prepared: dict, run_once: RunOnce) -> str:
    """The real-data classifier, trained once."""
    return run_once(Job("filter-clf", "train", filter_options(cfg, folder, prepared),
                        str(folder / "logs" / "filter-clf.log")), folder / "filter_clf" / "trained.json",
                    "[ablate] training the filter's classifier on the real training split ...")


def score_pool(manifest: str | Path, run: str, batch: int = 256) -> pd.DataFrame:
    """The synth manifest with a `score` column: the filter classifier's probability of each image's class."""
    from clf.predict import score_manifest
    from common.csvfile import read_csv

    return score_manifest(read_csv(manifest, "synth manifest", encoding_option=None), run, batch)


def prepare_filters(cfg: AblationConfig, folder: Path, gfolder: Path, prepared: dict, synth: str, filters: list[str],
                    run_once: RunOnce, echo) -> tuple[dict[str, str], dict[str, dict[str, list[int]]]]:
    """({filter: synth folder}, {filter: {class: [kept, generated]}}) for each of `filters`: the images of `synth`
    scored by the ablation's one real-data classifier (under `folder`); scores and manifests under `gfolder`."""
    from augment.manifest import save_manifest
    from augment.mixing import select_synthetic

    run = filter_classifier(cfg, folder, prepared, run_once)
    scored_path = gfolder / "filter_clf" / "synth_scores.csv"
    if scored_path.exists():
        scored = pd.read_csv(scored_path, dtype={"label": str}, keep_default_na=False)
    else:
        echo("[ablate] scoring the synthetic images with the filter's classifier ...")
        scored = score_pool(Path(synth) / "manifest.csv", run)
        save_manifest(scored, scored_path)
    generated = scored["label"].value_counts().to_dict()
    by_filter, kept = {}, {}
    for f in filters:
        keep = select_synthetic(scored, f).drop(columns="score")
        out = gfolder / f"synth-f{f}"
        save_manifest(keep, out / "manifest.csv")
        by_filter[f] = str(out)
        got = keep["label"].value_counts().to_dict()
        kept[f] = {str(c): [int(got.get(c, 0)), int(n)] for c, n in sorted(generated.items())}
        total = sum(v[0] for v in kept[f].values())
        echo(f"[ablate] filter {f}: kept {total}/{len(scored)} synthetic images "
             f"({', '.join(f'{c} {k}/{n}' for c, (k, n) in list(kept[f].items())[:10])})")
    return by_filter, kept
