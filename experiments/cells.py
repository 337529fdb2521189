"""Typed cells: the parts' own options dataclasses built from an ablation config, one per job.

The ablation never spells a command-line flag: a cell is a `TrainOptions`, the generator a `GanOptions`, its images
a `SynthOptions`, their score a `FidOptions`. A renamed option therefore fails at config load (or in the tests),
not silently in the middle of a grid.
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from augment.mixing import BALANCE, parse_ratio
from augment.spec import DataSpec
from common.errors import UserError
from experiments.config import EPOCH_FACTOR, AblationConfig, load_config, remedy_options
from experiments.grid import Cell, build_cells

if TYPE_CHECKING:  # the parts are imported where used: a config check need not load the GAN stack
    from clf.options import TrainOptions
    from gen.metrics.command import FidOptions
    from gen.options import GanOptions, SynthOptions

# Options each section may not set: the grid, the data recipe or the ablation folder decide them.
OWNED = {
    "train": {"data", "out", "val_data", "val_fraction", "test_data", "synth", "ratio", "balance", "model", "epochs",
              "size", "pretrained", "lite0_imagenet", "aug", "seed", "resume", "synth_filter", "synth_scorer",
              "synth_weight", "real_last"},
    "train-gan": {"data", "out", "resume", "init_from"},
    "synth": {"gan", "classes", "all_classes", "n", "seeds", "out", "classifier", "min_confidence", "reference"},
    "fid": {"real", "fake", "gan", "out", "metrics", "extractor"},
}


@dataclass
class CellInputs:
    """The resolved inputs every cell draws from (paths made by the preparation)."""

    train: str
    test: str
    val: float = 0.2
    val_data: str | None = None
    synth: dict[str, str] | None = None   # Cell.synth_key ("none", "0.5", "g1:0.5") → synth folder with manifest.csv
    placeholders: bool = False           # dry runs and config checks: "<synth>" stands for a folder not made yet


def section_options(cls: type, raw: dict | None, key: str, command: str) -> dict:
    """A config mapping as options of `cls`: dashes become underscores, `no-progress: true` is progress off;
    unknown names and names the grid owns are refused in one line."""
    fields = {f.name for f in dataclasses.fields(cls)}
    if raw is not None and not isinstance(raw, dict):
        raise UserError(f"config {key}: expected a mapping of {command} options (name: value), e.g. "
                        "{batch_size: 64}; flag lists are no longer read")
    out = {}
    for k, v in (raw or {}).items():
        name = str(k).lstrip("-").replace("-", "_")
        if name == "no_progress":
            name, v = "progress", not v
        if name in OWNED[command]:
            raise UserError(f"config {key}: {k!r} is set by the ablation (grid, data or folder), not here; remove it")
        if name not in fields:
            raise UserError(f"config {key}: unknown {command} option {k!r}; known: "
                            f"{', '.join(sorted(fields - OWNED[command]))}")
        out[name] = v
    from common.runs import typed_values

    return typed_values(cls, out, f"config {key}")


def train_options(cell: Cell, inputs: CellInputs, cfg: AblationConfig, runs_root: str | Path) -> TrainOptions:
    """The TrainOptions of one grid cell."""
    from clf.options import TrainOptions

    clf = cfg.classifier
    synth = None
    if cell.kind == "cas" or cell.ratio != "0":
        synth = (inputs.synth or {}).get(cell.synth_key) or ("<synth>" if inputs.placeholders else None)
        if synth is None:
            raise UserError(f"cell {cell.id}: no synthetic images were prepared for it ({cell.synth_key}); "
                            "run the ablation again with --resume to prepare them")
    if cell.kind == "cas":
        # Synthetic only, selected on a split of the synthetic set: no real image is seen before the test.
        data, val = DataSpec(str(Path(synth) / "manifest.csv"), path_column="path",
                             label_column="label"), {"val_fraction": inputs.val}
        mix = {}
    else:
        data = DataSpec(inputs.train)
        val = {"val_data": inputs.val_data} if inputs.val_data else {"val_fraction": inputs.val}
        ratio = parse_ratio(cell.ratio)
        # the filter is already applied: the cell's synth folder is the prepared manifest of what it keeps
        mix = {} if ratio == 0 else {"synth": synth, "synth_weight": float(cell.weight), "real_last": cell.real_last,
                                     **({"balance": True} if ratio == BALANCE else {"ratio": ratio})}
    weights = {}
    if cell.pretrained:
        weights = {"lite0_imagenet": True} if clf.pretrained_weights == "lite0-imagenet" else {"pretrained": True}
    recipe = clf.recipe(cell.pretrained)
    key = "classifier.options" if cell.pretrained or not clf.scratch else "classifier.scratch.options"
    epochs = int(recipe["epochs"]) * EPOCH_FACTOR.get(cell.remedy, 1)
    return TrainOptions(data=data, out=str(runs_root), test_data=inputs.test, model=recipe["model"], epochs=epochs,
                        size=recipe["size"], aug=cell.aug, seed=cell.seed, **val, **mix,
                        **weights, **remedy_options(cell.remedy, epochs),
                        **section_options(TrainOptions, recipe["options"], key, "train"))


def gan_options(cfg: AblationConfig, train: str, out: str | Path, seed: int | None = None) -> GanOptions:
    """The GanOptions of the ablation's generator (of the one with `seed`, on a grid.gan_seeds axis)."""
    from gen.options import GanOptions

    fixed = section_options(GanOptions, cfg.gan.train, "gan.train", "train-gan")
    return GanOptions(data=DataSpec(train), out=str(out), **fixed, **({} if seed is None else {"seed": seed}))


def synth_options(cfg: AblationConfig, run: str, n: int, out: str | Path,
                  reference: str | None = None) -> SynthOptions:
    """The SynthOptions that draw `n` images of every class from the generator (judged by the data recipe's
    balanced reference set too, where it has one)."""
    from gen.options import SynthOptions

    return SynthOptions(gan=str(run), all_classes=True, n=n, out=str(out), reference=reference,
                        **section_options(SynthOptions, cfg.gan.synth_options, "gan.synth_options", "synth"))


def fid_options(cfg: AblationConfig, real: str, fake: str, out: str | Path) -> FidOptions:
    """The FidOptions that score the synthetic images against the real ones."""
    from gen.metrics.command import FidOptions

    return FidOptions(real=str(real), fake=str(fake), out=str(out), metrics=cfg.fid.metrics,
                      extractor=cfg.fid.extractor,
                      **section_options(FidOptions, cfg.fid.options, "fid.options", "fid"))


def check_part_options(cfg: AblationConfig) -> None:
    """Build every part's options from the config and run the parts' own checks, on placeholder paths."""
    import timm

    import clf.archs  # noqa: F401  (the models SynthMix registers with timm are names a config may use)
    from clf.train import check_options as check_train

    for pretrained in cfg.pretrained:
        name = cfg.classifier.recipe(pretrained)["model"]
        if not timm.is_model(name):
            where = "classifier.scratch.model" if not pretrained and (cfg.classifier.scratch or {}).get("model") \
                else "classifier.model"
            raise UserError(f"config {where} {name!r}: not a timm model; see timm.list_models()")
    scratch = tempfile.gettempdir()  # the checks look at where outputs go; the real folder is not made yet
    inputs = CellInputs("<train>", "<test>", cfg.data.val, None, None, placeholders=True)
    cells = build_cells(cfg)
    firsts = {(c.ratio != "0", c.remedy, c.weight, c.real_last, c.pretrained): c for c in reversed(cells)}  # each once
    for cell in firsts.values():
        check_train(train_options(cell, inputs, cfg, scratch))
    if cfg.gan.train is not None:
        from gen.train import check_options as check_gan

        check_gan(gan_options(cfg, "<train>", scratch))
    from common.ranges import check_ranges
    from gen.metrics.command import FID_RANGES
    from gen.options import SYNTH_RANGES

    check_ranges(synth_options(cfg, "<run>", 1, scratch), SYNTH_RANGES)
    check_ranges(fid_options(cfg, "<real>", "<fake>", scratch), FID_RANGES)


def load_ablation_config(path: str | Path) -> AblationConfig:
    """A config read and validated (experiments.config), with every part's options built and checked by the part:
    a typo in an option, a model name or a preset fails here, before any folder is made."""
    cfg = load_config(path)
    check_part_options(cfg)
    return cfg
