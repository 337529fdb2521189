"""The recommendation line: the best setting synthetic or not, its paired gains, and what it costs."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.recommend import job_seconds, recommend


def _cells(arms: dict[str, list[float]], pretrained=True, seconds=None) -> pd.DataFrame:
    rows = [{"aug": "basic", "pretrained": pretrained, "ratio": arm, "seed": s, "test_acc": v,
             "seconds": (seconds or {}).get(arm, 60.0)} for arm, vals in arms.items() for s, v in enumerate(vals)]
    return pd.DataFrame(rows)


PREP = {"train-gan-g0": 540.0, "synth-g0": 30.0, "train-gan-g1": 600.0, "synth-g1": 30.0, "filter-clf": 60.0}


def test_a_synthetic_arm_proven_for_every_generator_seed_is_recommended_with_its_gains_and_cost():
    mix = _cells({"0": [0.50, 0.52, 0.51], "0+balanced_sampler": [0.53, 0.54, 0.52],
                  "1@ftop0.5/g0": [0.58, 0.59, 0.585], "1@ftop0.5/g1": [0.57, 0.585, 0.58],
                  "1/g0": [0.60, 0.45, 0.52], "1/g1": [0.51, 0.5, 0.52]},
                 seconds={"0": 60.0, "1@ftop0.5/g0": 120.0, "1@ftop0.5/g1": 120.0})
    rec = recommend(mix, "test_acc", PREP)
    assert rec["synthetic"] and rec["arm"] == "1@ftop0.5" and rec["best_remedy"] == "0+balanced_sampler"
    line = rec["line"]
    assert line.startswith("Recommendation (test_acc): use synthetic images — 1@ftop0.5 (aug basic, pretrained)")
    assert "vs real only g0 +0.0750 [+0.0626, +0.0874], g1 +0.0683 [" in line
    assert "vs the best remedy (0+balanced_sampler) g0 +0.0550 [" in line
    assert "train-gan + synth + filter-clf 11.0 min per generator" in line  # (540+30+60 + 600+30+60) / 2 s
    assert "2.0 min per classifier run instead of 1.0 (2.0x)" in line


def test_a_gain_that_one_generator_seed_does_not_show_recommends_the_best_real_data_arm():
    mix = _cells({"0": [0.50, 0.52, 0.51], "0+class_weighted": [0.55, 0.56, 0.55],
                  "1/g0": [0.60, 0.61, 0.60], "1/g1": [0.50, 0.60, 0.55]})
    rec = recommend(mix, "test_acc", PREP)
    assert not rec["synthetic"] and rec["arm"] == "0+class_weighted"
    assert "no synthetic setting is worth its cost here — train 0+class_weighted (aug basic, pretrained)" in rec["line"]
    assert "best synthetic arm 1: mean 0.5767" in rec["line"] and "g1 -0.0033 [-0.1153, +0.1087] (not above 0 for every generator seed)" in rec["line"]


def test_the_best_setting_wins_across_starts_and_nothing_finished_says_so(tmp_path):
    mix = pd.concat([_cells({"0": [0.3, 0.31, 0.32], "1": [0.4, 0.41, 0.42]}, pretrained=False),
                     _cells({"0": [0.50, 0.52, 0.51], "1": [0.50, 0.51, 0.52]}, pretrained=True)])
    rec = recommend(mix, "test_acc")
    assert rec["arm"] == "0" and rec["setting"]["pretrained"] is True  # 0.51 pretrained beats scratch's 0.41
    assert "train real only (aug basic, pretrained), mean 0.5100" in rec["line"]
    # from scratch the synthetic images do help (+0.10): said for a user who cannot use pretrained weights
    assert rec["lines"][-1].startswith("from scratch (aug basic) synthetic images do pay: 1, mean 0.4100, vs 0 +0.1000")
    assert recommend(mix.iloc[:0], "test_acc")["arm"] is None
    assert recommend(pd.DataFrame(columns=["aug", "pretrained", "ratio", "seed"]), "test_acc")["arm"] is None
    one = _cells({"0": [0.50, 0.52, 0.51], "1": [0.60, 0.61, 0.62]})  # one synthetic arm, one generator
    rec = recommend(one, "test_acc", {"synth": 30.0})
    assert rec["arm"] == "1" and "synth 0.5 min per generator (train-gan: not timed here" in rec["line"]
    # a generator seed without finished cells proves nothing: the other seed's gain is not enough
    assert not recommend(_cells({"0": [0.50, 0.52, 0.51], "1/g0": [0.60, 0.61, 0.62]}), "test_acc",
                         generators=2)["synthetic"]
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "train-gan.result.json").write_text(json.dumps({"name": "train-gan", "status": "ok",
                                                                        "seconds": 12.5}))
    (tmp_path / "jobs" / "mix-r0-basic-pt-s0.result.json").write_text(json.dumps({"name": "mix-r0-basic-pt-s0",
                                                                                 "status": "ok", "seconds": 3}))
    assert job_seconds(tmp_path) == {"train-gan": 12.5}


def test_a_synthetic_arm_used_with_a_remedy_is_paired_with_that_remedy_on_real_images():
    from experiments.analysis import paired_vs_baselines

    mix = _cells({"0": [0.50, 0.52, 0.51], "0+balanced_sampler": [0.60, 0.62, 0.61],
                  "1+balanced_sampler": [0.61, 0.63, 0.62], "1": [0.55, 0.57, 0.56], "1+class_weighted": [0.5] * 3})
    p = paired_vs_baselines(mix, "test_acc", ["aug", "pretrained"]).set_index("ratio")
    # the sampler's +0.10 is not the synthetic images': with it, they add +0.01
    assert p.loc["1+balanced_sampler", "baseline"] == "0+balanced_sampler"
    assert p.loc["1+balanced_sampler", "mean_diff"] == pytest.approx(0.01)
    assert p.loc["1", "baseline"] == "0" and p.loc["1", "mean_diff"] == pytest.approx(0.05)
    assert p.loc["1+class_weighted", "baseline"] == "0"  # no real-only class-weighted arm to pair with
    assert p.loc["0+balanced_sampler", "baseline"] == "0"
