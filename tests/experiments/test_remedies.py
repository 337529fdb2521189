"""The long-tail remedies as grid arms: each registered entry builds a cell whose TrainOptions pass train's checks,
DRW's epoch follows each recipe's length, and a grid can grow by a remedy with --resume."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cells import CellInputs, train_options
from experiments.config import REMEDIES, from_dict, remedy_options
from experiments.grid import build_cells


def _cfg(remedies, epochs=6):
    return from_dict({"data": {"train": "a", "test": "b"}, "gan": {"synth": "s"},
                      "grid": {"ratios": [0], "remedy": ["none", *remedies], "augs": ["basic"], "pretrained": [False],
                               "seeds": [0, 1, 2]},
                      "classifier": {"model": "test_resnet", "epochs": epochs, "size": 16}, "cas": {"enabled": False}})


def test_balanced_softmax_at_twice_the_epochs_is_the_equal_cost_arm(tmp_path):
    cfg = _cfg(["balanced_softmax_x2"])
    cell = next(c for c in build_cells(cfg) if c.remedy == "balanced_softmax_x2")
    inputs = CellInputs(str(tmp_path / "train"), str(tmp_path / "test"), 0.2, None, None, placeholders=True)
    o = train_options(cell, inputs, cfg, tmp_path / "runs")
    assert (o.loss, o.epochs) == ("balanced_softmax", 12)  # the recipe's 6, twice


def test_drw_switches_at_four_fifths_of_each_recipe():
    assert remedy_options("drw", 6) == {"drw_epoch": 4}
    assert remedy_options("ldam_drw", 200) == {"loss": "ldam", "drw_epoch": 160}  # the reference's 160 of 200
    assert remedy_options("drw", 1) == {"drw_epoch": 1}  # never epoch 0: that is plain re-weighting


@pytest.mark.parametrize("remedy", [r for r in REMEDIES if r not in ("none", "epochs_x2")])
def test_every_remedy_is_a_cell_train_accepts(remedy, tmp_path):
    from clf.train import check_options

    cfg = _cfg([remedy])
    cells = [c for c in build_cells(cfg) if c.remedy == remedy]
    assert len(cells) == 3 and cells[0].arm == f"0+{remedy}"
    inputs = CellInputs(str(tmp_path / "train"), str(tmp_path / "test"), 0.2, None, None, placeholders=True)
    o = train_options(cells[0], inputs, cfg, tmp_path / "runs")
    check_options(o)
    for k, v in remedy_options(remedy, 6).items():
        assert getattr(o, k) == v


def test_shipped_long_tail_grid_weighs_every_field_remedy():
    from experiments.cells import load_ablation_config

    cfg = load_ablation_config(Path(__file__).parents[2] / "experiments/configs/cifar10_longtail_remedies.yaml")
    assert {"class_weighted", "balanced_softmax", "logit_adjusted", "posthoc_la", "drw", "ldam_drw", "cmo"} \
        <= set(cfg.remedies)
    assert cfg.ratios == ["0"]  # real images only: no generator is trained for it


def test_a_remedy_that_cannot_run_in_the_recipe_is_refused_at_load(tmp_path):
    """DRW needs an epoch to switch at: a 1-epoch recipe is refused when the config is loaded (--dry-run too), not
    cell by cell later."""
    import yaml

    from common.errors import UserError
    from experiments.cells import load_ablation_config

    raw = {"data": {"train": str(tmp_path), "test": str(tmp_path)}, "gan": {"synth": str(tmp_path)},
           "grid": {"ratios": [0], "remedy": ["none", "drw"], "augs": ["basic"], "seeds": [0, 1, 2]},
           "classifier": {"model": "test_resnet", "epochs": 1, "size": 16}, "cas": {"enabled": False}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(UserError, match="--drw-epoch 1"):
        load_ablation_config(path)
