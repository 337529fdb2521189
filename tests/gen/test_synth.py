"""synth: exactly the files and manifest asked for, per-seed regeneration, the classifier filter, refusals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from common.errors import UserError
from gen.options import SynthOptions
from gen.synth import load_sampler, synth
from gen.train import train_gan


@pytest.fixture
def gan_run(gan_data, tiny_opts):
    return train_gan(tiny_opts(gan_data(), steps=1, snapshot_every=1))


def test_synth_writes_exactly_the_files_and_manifest(gan_run, tmp_path):
    out = tmp_path / "syn"
    df = synth(SynthOptions(gan=str(gan_run), classes=("dog", "cat"), seeds="0-2,7", out=str(out), batch=2))
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    expected = sorted([f"{c}/seed{s:04d}.png" for c in ("cat", "dog") for s in (0, 1, 2, 7)]
                      + ["manifest.csv", "quality.json"])
    assert files == expected
    import json

    q = json.loads((out / "quality.json").read_text())  # variety and class beside the images
    assert set(q["per_class"]) == {"cat", "dog"} and q["per_class"]["cat"]["n"] == 4
    assert 0 <= q["per_class"]["dog"]["agreement"] <= 1 and "diversity_ratio" in q["per_class"]["dog"]
    saved = pd.read_csv(out / "manifest.csv")
    assert list(saved.columns[:7]) == ["path", "label", "category", "source", "gan_run", "checkpoint", "seed"]
    assert len(saved) == len(df) == 8 and set(saved["source"]) == {"synthetic"}
    assert saved["checkpoint"].str.endswith("last.pt").all() and (saved["gan_run"] == str(gan_run.resolve())).all()
    assert Image.open(saved["path"][0]).size == (32, 32)


def test_one_seed_regenerates_the_same_image(gan_run, tmp_path):
    a = synth(SynthOptions(gan=str(gan_run), classes=("cat",), seeds="0-5", out=str(tmp_path / "a"), batch=4))
    b = synth(SynthOptions(gan=str(gan_run), classes=("cat",), seeds="4", out=str(tmp_path / "b")))
    img_a = np.asarray(Image.open(a.loc[a["seed"] == 4, "path"].item()))
    img_b = np.asarray(Image.open(b["path"].item()))
    assert np.array_equal(img_a, img_b)


def test_all_classes_and_n(gan_run, tmp_path):
    df = synth(SynthOptions(gan=str(gan_run), all_classes=True, n=3, out=str(tmp_path / "s")))
    assert df.groupby("label").size().to_dict() == {"cat": 3, "dog": 3}


def test_classifier_filter_keeps_confident_samples(gan_run, tmp_path):
    calls = []

    def score_fn(images, name):
        assert images.dtype == torch.uint8 and images.shape[1:] == (3, 32, 32)
        calls.append(name)
        return torch.tensor([0.9, 0.1, 0.6, 0.2][:len(images)])

    df = synth(SynthOptions(gan=str(gan_run), classes=("cat",), seeds="0-3", out=str(tmp_path / "f"),
                            min_confidence=0.5), score_fn=score_fn)
    assert sorted(df["seed"]) == [0, 2] and calls == ["cat"]
    assert df.attrs["kept"] == {"cat": 2} and df.attrs["generated"] == {"cat": 4}
    saved = pd.read_csv(tmp_path / "f" / "manifest.csv")  # the kept images' scores are written too
    assert saved["score"].round(6).tolist() == [0.9, 0.6]


def test_classifier_without_threshold_scores_every_image_for_the_rank_filter(gan_run, tmp_path):
    """`synth --classifier RUN` alone keeps every image and writes the score column `--synth-filter top<q>` ranks by."""
    from augment.mixing import select_synthetic

    def score_fn(images, name):
        return torch.tensor({"cat": [0.9, 0.1, 0.6, 0.2], "dog": [0.3, 0.8, 0.4, 0.7]}[name][:len(images)])

    df = synth(SynthOptions(gan=str(gan_run), all_classes=True, seeds="0-3", out=str(tmp_path / "s")),
               score_fn=score_fn)
    assert len(df) == 8 and df.attrs["kept"] == df.attrs["generated"] == {"cat": 4, "dog": 4}
    saved = pd.read_csv(tmp_path / "s" / "manifest.csv")
    assert saved.sort_values(["label", "seed"])["score"].round(6).tolist() == [0.9, 0.1, 0.6, 0.2, 0.3, 0.8, 0.4, 0.7]
    best = select_synthetic(saved, "top0.5")
    assert sorted(zip(best["label"], best["seed"])) == [("cat", 0), ("cat", 2), ("dog", 1), ("dog", 3)]


def test_min_confidence_without_a_classifier_is_refused_before_anything_is_made(gan_run, tmp_path):
    with pytest.raises(UserError, match=r"--min-confidence 0.5: needs --classifier RUN"):
        synth(SynthOptions(gan=str(gan_run), all_classes=True, n=2, out=str(tmp_path / "x"), min_confidence=0.5))
    assert not (tmp_path / "x").exists()


def test_off_a_terminal_synth_reports_one_bar_for_the_whole_job(gan_run, tmp_path, capsys, monkeypatch):
    """A log gets the job's progress as a few whole lines, not a bar per class."""
    from common import progress

    monkeypatch.setattr(progress, "MIN_WORK_S", 0.0)  # as if the work took long enough to be worth a line
    synth(SynthOptions(gan=str(gan_run), all_classes=True, n=3, out=str(tmp_path / "s"), batch=1))
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("synth")]
    assert 1 <= len(lines) <= 2 and "6/6" in lines[-1], lines


def test_unknown_class_lists_the_known_ones(gan_run, tmp_path):
    with pytest.raises(UserError, match="unknown class 'cow'; this GAN knows: cat, dog"):
        synth(SynthOptions(gan=str(gan_run), classes=("cow",), n=2, out=str(tmp_path / "x")))
    assert not (tmp_path / "x").exists()


def test_wrong_checkpoint_is_refused(tmp_path):
    bad = tmp_path / "model.pt"
    torch.save({"state_dict": {}}, bad)
    with pytest.raises(UserError, match="not a SynthMix GAN checkpoint"):
        synth(SynthOptions(gan=str(bad), classes=("cat",), n=1, out=str(tmp_path / "x")))
    with pytest.raises(UserError, match="no best.pt or last.pt"):
        synth(SynthOptions(gan=str(tmp_path), classes=("cat",), n=1, out=str(tmp_path / "y")))


def test_load_sampler_for_metrics(gan_run):
    sample_fn, names = load_sampler(gan_run)
    x = sample_fn(1, 3)
    assert names == ["cat", "dog"] and x.shape == (3, 3, 32, 32) and x.dtype == torch.uint8
    assert torch.equal(x, sample_fn(1, 3))


def test_per_class_gan_samples_each_class(gan_data, tiny_opts, tmp_path):
    run = train_gan(tiny_opts(gan_data(), mode="per-class", steps=1, snapshot_every=1))
    df = synth(SynthOptions(gan=str(run), all_classes=True, n=2, out=str(tmp_path / "pc")))
    assert df.groupby("label").size().to_dict() == {"cat": 2, "dog": 2}


def test_quality_measures_coverage_in_the_judges_features(gan_data, tiny_opts, tmp_path):
    import json

    run = train_gan(tiny_opts(gan_data({"cat": 10, "dog": 4}), steps=1, snapshot_every=1))
    synth(SynthOptions(gan=str(run), all_classes=True, n=8, out=str(tmp_path / "syn"), batch=8))
    q = json.loads((tmp_path / "syn" / "quality.json").read_text())
    # the run's judge.pt kept its reals' features (10 cat, 4 dog: only cat has more than k + 1 = 6 to measure against)
    assert 0 <= q["per_class"]["cat"]["coverage"] <= 1 and "density" in q["per_class"]["cat"]
    assert "coverage" not in q["per_class"]["dog"]
    assert q["coverage_min"] == q["per_class"]["cat"]["coverage"]


def test_a_reference_set_judges_every_class_once_and_a_skewed_one_is_refused(gan_data, tiny_opts, tmp_path,
                                                                            monkeypatch):
    import json

    from gen import judge

    monkeypatch.setenv("SYNTHMIX_CACHE", str(tmp_path / "cache"))
    run = train_gan(tiny_opts(gan_data({"cat": 10, "dog": 4}), steps=1, snapshot_every=1))
    ref = gan_data({"cat": 8, "dog": 8}, name="reference")  # balanced, and not the GAN's training images
    trained = []
    real_train = judge.train_judge
    monkeypatch.setattr(judge, "train_judge", lambda *a, **k: trained.append(1) or real_train(*a, **k))
    synth(SynthOptions(gan=str(run), all_classes=True, n=8, out=str(tmp_path / "a"), batch=8, reference=str(ref)))
    q = json.loads((tmp_path / "a" / "quality.json").read_text())["reference"]
    # every class judged by it, the rare dog too (the run's own judge has too few dog reals for coverage)
    assert set(q["per_class"]) == {"cat", "dog"} and all("coverage" in r for r in q["per_class"].values())
    assert q["agreement_min"] == min(r["agreement"] for r in q["per_class"].values())
    synth(SynthOptions(gan=str(run), all_classes=True, n=4, out=str(tmp_path / "b"), batch=8, reference=str(ref)))
    assert len(trained) == 1 and len(list((tmp_path / "cache" / "reference-judges").iterdir())) == 1  # cached
    from gen.reference import reference_judge

    (_, _, order), _ = reference_judge(str(ref), 32, ["dog", "cat"], tmp_path / "cache")  # other output indices
    assert order == ["dog", "cat"] and len(trained) == 2  # a judge of its own, not the cat-first one
    skewed = gan_data({"cat": 8, "dog": 2}, name="skewed")
    with pytest.raises(UserError, match="a reference set is balanced"):
        synth(SynthOptions(gan=str(run), all_classes=True, n=2, out=str(tmp_path / "c"), reference=str(skewed)))
    with pytest.raises(UserError, match="--reference .*nope: not found"):
        synth(SynthOptions(gan=str(run), all_classes=True, n=2, out=str(tmp_path / "d"), reference=str(tmp_path / "nope")))
    assert not (tmp_path / "d").exists()
