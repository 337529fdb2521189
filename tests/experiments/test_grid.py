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


def test_ways_of_using_synthetic_images_are_axes_with_stable_ids_and_round_trip_arm_names():
    from experiments.grid import arm_label, arms, parse_arm

    base = _cfg(ratios=[0, 1], augs=["basic"], pretrained=[True])
    cfg = _cfg(ratios=[0, 1], augs=["basic"], pretrained=[True], filter=["none", "top0.5"], weight=[1, 0.5],
               real_last=[0, 2], synth_remedy=["none", "balanced_sampler"])
    mix = [c for c in build_cells(cfg) if c.kind == "mix"]
    assert len(mix) == 3 * (1 + 2 * 2 * 2 * 2)  # real only + ratio 1 x filter x weight x real_last x remedy
    ids = {c.id for c in mix}
    # the plain cells keep the ids they had before these axes existed, so a grown grid resumes them
    assert {c.id for c in build_cells(base) if c.kind == "mix"} <= ids
    assert "mix-r1-ftop0.5-w0.5-rl2-balanced_sampler-basic-pt-s0" in ids
    assert base.grid_dict() == _cfg(ratios=[0, 1], augs=["basic"], pretrained=[True], weight=[1], real_last=[0],
                                    synth_remedy=["none"]).grid_dict()
    names = arms(cfg)
    assert names[0] == "0" and "1@ftop0.5:w0.5:rl2+balanced_sampler" in names and len(names) == 17
    for c in mix:
        p = parse_arm(c.arm)
        assert arm_label(**p) == c.arm
        assert (p["filter"], p["weight"], p["real_last"], p["remedy"]) == (c.filter, c.weight, c.real_last, c.remedy)
    with pytest.raises(UserError, match=r"grid.real_last 10: epochs at the end .* from 0 to 9"):
        _cfg(real_last=[0, 10])  # classifier.epochs is 10: at least one epoch must see synthetic images
    with pytest.raises(UserError, match=r"grid.weight 0"):
        _cfg(weight=[1, 0])
    with pytest.raises(UserError, match="grid.synth_remedy"):
        _cfg(synth_remedy=["none", "oversample"])
    with pytest.raises(UserError, match="grid.filter 'best'"):
        _cfg(filter=["none", "best"])


def test_a_grown_synthetic_use_axis_resumes_only_its_new_cells():
    from experiments.ablate import grown_axes

    before = _cfg(ratios=[0, 1]).grid_dict()
    after = _cfg(ratios=[0, 1], weight=[1, 0.5], filter=["none", "top0.5"]).grid_dict()
    assert set(grown_axes(before, after)) == {"weights", "filters"}
    assert grown_axes(after, _cfg(ratios=[0, 1], weight=[0.5], filter=["none", "top0.5"]).grid_dict()) == ()


def test_the_scratch_recipe_trains_the_from_scratch_cells_and_leaves_the_pretrained_ones(tmp_path):
    from experiments.cells import CellInputs, check_part_options, train_options

    raw = {"data": {"train": "a", "test": "b"}, "gan": {"synth": "s"},
           "grid": {"ratios": [0, 1], "augs": ["crop"], "pretrained": [True, False], "seeds": [0, 1, 2],
                    "real_last": [0, 6]},
           "classifier": {"model": "tf_efficientnet_lite0", "pretrained_weights": "lite0-imagenet", "epochs": 6,
                          "size": 64, "options": {"batch_size": 64, "lr": 0.002},
                          "scratch": {"model": "resnet10_cifar", "epochs": 40, "size": 32,
                                      "options": {"opt": "sgd", "lr": 0.05}}}}
    with pytest.raises(UserError, match=r"grid.real_last 6: .* from 0 to 5"):  # the shorter recipe's 6 epochs
        from_dict(raw)
    raw["grid"]["real_last"] = [0, 2]
    cfg = from_dict(raw)
    check_part_options(cfg)  # both recipes' options pass train's own checks
    inputs = CellInputs("<train>", "<test>", placeholders=True, synth={"none": "<synth>"})
    by_id = {c.id: train_options(c, inputs, cfg, tmp_path) for c in build_cells(cfg) if c.kind == "mix"}
    pt, scratch = by_id["mix-r1-rl2-crop-pt-s0"], by_id["mix-r1-rl2-crop-scratch-s0"]
    assert (pt.model, pt.epochs, pt.size, pt.opt, pt.lr, pt.lite0_imagenet) == (
        "tf_efficientnet_lite0", 6, 64, "adamw", 0.002, True)
    assert (scratch.model, scratch.epochs, scratch.size, scratch.opt, scratch.lr, scratch.batch_size,
            scratch.lite0_imagenet, scratch.real_last) == ("resnet10_cifar", 40, 32, "sgd", 0.05, 64, False, 2)
    assert "scratch" not in _cfg().grid_dict()["classifier"]  # configs without one resume as before
    raw["classifier"]["scratch"] = {"model": "resnet10_cifar", "lr": 0.1}
    with pytest.raises(UserError, match="classifier.scratch: a mapping of model, epochs, size and options"):
        from_dict(raw)
