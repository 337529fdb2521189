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


def test_a_variant_config_grows_its_base_grid_only_by_its_new_axis():
    """The _real_last / _weight variants run on a copy of their base's folder: its cells must be theirs too."""
    from experiments.cells import load_ablation_config
    from experiments.grid import build_cells

    cells = {p.stem: build_cells(load_ablation_config(p)) for p in CONFIGS}
    ids = {c.id for c in cells["cifar10_100pc"]}
    for v in ("cifar10_100pc_real_last", "cifar10_100pc_weight"):
        grown = {c.id for c in cells[v]}
        assert ids < grown and len(grown) == len(ids) + 12, v
    real = {c.id for c in cells["cifar10_longtail"] if c.ratio == "0"}
    assert len(real) == 9 and real == {c.id for c in cells["cifar10_longtail_balance"] if c.ratio == "0"}
