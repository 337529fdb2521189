"""Stratified splits and real+synthetic mixing counts."""
import pandas as pd
import pytest

from augment.mixing import mix, synthetic_quota
from augment.split import stratified_split
from common.errors import UserError


def _manifest(counts: dict, source="real") -> pd.DataFrame:
    rows = [{"path": f"/{source}/{c}/{i}.png", "label": c, "category": None, "source": source}
            for c, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows)


def test_split_is_stratified_and_seeded():
    df = _manifest({"a": 50, "b": 20, "c": 10})
    train, val, small = stratified_split(df, 0.2, seed=1)
    assert small == []
    assert val["label"].value_counts().to_dict() == {"a": 10, "b": 4, "c": 2}
    assert len(train) + len(val) == 80 and not set(train["path"]) & set(val["path"])
    again = stratified_split(df, 0.2, seed=1)[1]
    assert again["path"].tolist() == val["path"].tolist()
    assert stratified_split(df, 0.2, seed=2)[1]["path"].tolist() != val["path"].tolist()


def test_classes_too_small_stay_in_train_and_are_reported():
    df = _manifest({"a": 30, "b": 30, "tiny": 1, "two": 2})
    train, val, small = stratified_split(df, 0.2, seed=0)
    assert small == ["tiny", "two"]
    assert set(val["label"]) == {"a", "b"}
    assert train["label"].value_counts()[["tiny", "two"]].tolist() == [1, 2]


def test_bad_fraction():
    with pytest.raises(UserError, match="--val 1.5"):
        stratified_split(_manifest({"a": 5}), 1.5)


def test_ratio_mixing_gives_exact_counts_capped_by_stock():
    real = _manifest({"a": 10, "b": 4})
    synth = _manifest({"a": 100, "b": 3}, source="synthetic")
    mixed = mix(real, synth, ratio=0.5, seed=0)
    counts = mixed.groupby(["label", "source"]).size().to_dict()
    assert counts == {("a", "real"): 10, ("a", "synthetic"): 5, ("b", "real"): 4, ("b", "synthetic"): 2}
    capped = mix(real, synth, ratio=2, seed=0).groupby(["label", "source"]).size().to_dict()
    assert capped[("a", "synthetic")] == 20 and capped[("b", "synthetic")] == 3
    assert len(mix(real, synth, ratio=0)) == len(real)


def test_ratio_rounds_half_up():
    assert synthetic_quota({"a": 9, "b": 3}, {"a": 99, "b": 99}, ratio=0.5) == {"a": 5, "b": 2}


def test_balance_tops_up_to_largest_class():
    real = _manifest({"a": 10, "b": 4, "c": 7})
    synth = _manifest({"a": 50, "b": 50, "c": 50}, source="synthetic")
    counts = mix(real, synth, balance=True).groupby("label").size().to_dict()
    assert counts == {"a": 10, "b": 10, "c": 10}


def test_mixing_is_seeded_and_refuses_foreign_classes():
    real = _manifest({"a": 10})
    synth = _manifest({"a": 30}, source="synthetic")
    assert mix(real, synth, ratio=1, seed=3).equals(mix(real, synth, ratio=1, seed=3))
    with pytest.raises(UserError, match="not in the real data"):
        mix(real, _manifest({"zebra": 3}, source="synthetic"), ratio=1)
    with pytest.raises(UserError, match="exactly one"):
        synthetic_quota({"a": 1}, {"a": 1}, ratio=1, balance=True)
