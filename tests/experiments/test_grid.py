"""Config -> cells (stable ids), and shards that cover the grid exactly once."""
from __future__ import annotations

from collections import Counter

import pytest

from common.errors import UserError
from augment.mixing import ratio_label
from experiments.config import from_dict
from experiments.grid import build_cells, parse_shard, shard


def _cfg(**grid):
    g = {"ratios": [0, 0.25, 1, "balance"], "augs": ["none", "basic"], "pretrained": [False, True], "seeds": [0, 1, 2]}
    g.update(grid)
    return from_dict({"data": {"train": "a", "test": "b"}, "gan": {"synth": "s"}, "grid": g})


def test_grid_is_the_full_product_plus_cas_with_stable_ids():
    cells = build_cells(_cfg())
    mix = [c for c in cells if c.kind == "mix"]
    cas = [c for c in cells if c.kind == "cas"]
    assert len(mix) == 4 * 2 * 2 * 3 and len(cas) == 3
    assert len({c.id for c in cells}) == len(cells)
    assert [c.id for c in build_cells(_cfg())] == [c.id for c in cells]  # same config, same ids, same order
    assert "mix-r0.25-basic-pt-s1" in {c.id for c in cells}
    assert {c.id for c in cas} == {"cas-none-scratch-s0", "cas-none-scratch-s1", "cas-none-scratch-s2"}


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 100])
def test_shards_cover_the_grid_exactly_once(n):
    cells = build_cells(_cfg())
    seen = Counter(c.id for i in range(n) for c in shard(cells, i, n))
    assert set(seen) == {c.id for c in cells}
    assert set(seen.values()) == {1}
    sizes = [len(shard(cells, i, n)) for i in range(n)]
    assert max(sizes) - min(sizes) <= 1


def test_parse_shard():
    assert parse_shard(None) == (0, 1)
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(UserError):
            parse_shard(bad)


def test_ratio_labels_and_config_mistakes():
    assert [ratio_label(r) for r in (0, 0.0, 0.250, "1", 2, "Balance")] == ["0", "0", "0.25", "1", "2", "balance"]
    with pytest.raises(UserError, match="must include 0"):
        _cfg(ratios=[0.5, 1])
    with pytest.raises(UserError, match="at least 3"):
        _cfg(seeds=[0, 1])
    with pytest.raises(UserError, match=r"grid.augs: unknown preset\(s\) hevy; choose from none"):
        _cfg(augs=["basic", "hevy"])
    with pytest.raises(UserError, match="ratio"):
        _cfg(ratios=[0, "lots"])
    with pytest.raises(UserError, match="unknown key"):
        from_dict({"data": {"train": "a", "test": "b"}, "gan": {"synth": "s"}, "gird": {}})
    with pytest.raises(UserError, match="gan"):
        from_dict({"data": {"train": "a", "test": "b"}})
    with pytest.raises(UserError, match="config metric 'val_acc'"):
        from_dict({"data": {"train": "a", "test": "b"}, "gan": {"synth": "s"}, "metric": "val_acc"})
    assert _cfg(seeds="0-4").seeds == [0, 1, 2, 3, 4]
