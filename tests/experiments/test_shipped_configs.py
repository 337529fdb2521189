"""Every config the README points users to loads, validates every cell's options, and builds its grid."""
from __future__ import annotations

from pathlib import Path

import pytest

CONFIGS = sorted((Path(__file__).parents[2] / "experiments" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_builds_its_grid(path):
    from experiments.cells import load_ablation_config
    from experiments.grid import build_cells

    cfg = load_ablation_config(path)
    cells = build_cells(cfg)
    assert cfg.name == path.stem  # the folder `ablate` writes is named for the file a user ran
    assert len({c.id for c in cells}) == len(cells) > 0


def test_a_variant_config_shares_its_base_cells_and_adds_its_arm():
    """The variants run with `--reuse` from their base's folder: the cells they share must have the same ids."""
    from experiments.cells import load_ablation_config
    from experiments.grid import build_cells

    cells = {p.stem: {c.id: c for c in build_cells(load_ablation_config(p))} for p in CONFIGS}
    base = cells["cifar10_100pc"]
    real_last = cells["cifar10_100pc_real_last"]
    assert set(base) < set(real_last) and len(real_last) == len(base) + 12
    assert all(c.real_last == 2 for i, c in real_last.items() if i not in base)
    equal = cells["cifar10_100pc_equal_steps"]  # real only at twice the epochs beside the base's 18 cells
    assert set(base) < set(equal) and {c.remedy for i, c in equal.items() if i not in base} == {"epochs_x2"}
    weight = cells["cifar10_100pc_weight"]  # transfer only: its 9 cells of the base, and 6 at half weight
    shared = set(weight) & set(base)
    assert len(shared) == 9 and all(base[i].pretrained for i in shared)
    assert sorted(c.weight for i, c in weight.items() if i not in base) == ["0.5"] * 6
    real = {i for i, c in cells["cifar10_longtail"].items() if c.ratio == "0"}
    assert len(real) == 18 and {i for i, c in cells["cifar10_longtail_balance"].items() if c.ratio == "0"} < real
    # the remedy grid's cells are the long-tail grid's real-data cells where they share a remedy: --reuse takes them
    remedies = cells["cifar10_longtail_remedies"]
    shared = {i for i, c in remedies.items() if c.remedy in {"none", "class_weighted", "balanced_softmax"}}
    assert len(shared) == 9 and shared < real
