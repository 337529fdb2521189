"""The ways of using synthetic images in `train`: a filter (absolute or per-class rank), a loss weight, real-only last
epochs, and the CIFAR-stem ResNet the grids' from-scratch arm trains."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from common.errors import UserError
from tests.clf.conftest import tiny_options


def _scored_synth(synth_dir, tmp_path):
    """The synth folder's manifest with a score column: within each class, the image's index / 10."""
    df = pd.read_csv(synth_dir / "manifest.csv")
    df["score"] = df.groupby("label").cumcount() / 10
    out = tmp_path / "scored"
    out.mkdir()
    df.to_csv(out / "manifest.csv", index=False)
    return out, df


def _frames(toy, synth, **kw):
    from augment.spec import DataSpec
    from clf.data import load_frames

    return load_frames(DataSpec(str(toy["train"])), val_data=str(toy["test"]), val_fraction=0.2, test_data=None,
                       seed=0, progress=False, synth=str(synth), **kw)


def test_rank_filter_keeps_each_class_best_scored_share_and_the_threshold_may_keep_none(toy, synth_dir, tmp_path):
    from augment.mixing import parse_filter, select_synthetic

    folder, df = _scored_synth(synth_dir, tmp_path)
    f = _frames(toy, folder, ratio=2.0, balance=False, synth_filter="top0.3")
    syn = f.train[f.train["source"] == "synthetic"]
    # 3 of 10 per class kept (ratio 2 asks more: mixing takes the stock), and they are each class's top 3
    assert syn["label"].value_counts().to_dict() == {"blue": 3, "green": 3, "red": 3}
    best = set(df[df["score"] >= 0.7]["path"])
    assert set(map(str, syn["path"])) <= {str(p) for p in best} and len(best) == 9
    f = _frames(toy, folder, ratio=2.0, balance=False, synth_filter="0.85")  # only score 0.9 passes
    assert f.train["source"].eq("synthetic").sum() == 3
    # a class the classifier finds hard keeps its best images under a rank filter, none under a threshold
    hard = df.assign(score=df["score"].where(df["label"] != "red", df["score"] / 100))
    assert select_synthetic(hard, "0.5")["label"].value_counts().get("red", 0) == 0
    assert select_synthetic(hard, "top0.5")["label"].value_counts()["red"] == 5
    assert [parse_filter(v) for v in ("none", None, 0.8, "0.80", "TOP0.5", "top0.25")] == [
        "none", "none", "0.8", "0.8", "top0.5", "top0.25"]
    for bad in ("top0", "top1", "top1.5", "1", "0", "best", "topx"):
        with pytest.raises(UserError, match="synthetic filter"):
            parse_filter(bad)
    with pytest.raises(UserError, match="no score column; pass --synth-scorer"):
        _frames(toy, synth_dir, ratio=1.0, balance=False, synth_filter="top0.5")


def test_manifest_scores_rank_as_numbers_not_as_their_text(toy, synth_dir, tmp_path):
    folder, df = _scored_synth(synth_dir, tmp_path)
    # each class's worst image scores 1e-05: as text "1e-05" would outrank "0.9"
    df["score"] = df["score"].where(df["score"] > 0, 1e-5)
    df.to_csv(folder / "manifest.csv", index=False)
    assert "1e-05" in (folder / "manifest.csv").read_text()
    f = _frames(toy, folder, ratio=1.0, balance=False, synth_filter="top0.1")
    syn = f.train[f.train["source"] == "synthetic"]
    assert set(map(str, syn["path"])) == {str(p) for p in df[df["score"] == 0.9]["path"]}
    df.loc[0, "score"] = None  # an unscored row is refused, not ranked last
    df.to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(UserError, match="missing or non-numeric score for 1 image"):
        _frames(toy, folder, ratio=1.0, balance=False, synth_filter="top0.1")


def test_scorer_run_scores_the_pool_with_its_own_classes(toy, synth_dir, trained_run):
    f = _frames(toy, synth_dir, ratio=1.0, balance=False, synth_filter="top0.5", synth_scorer=str(trained_run))
    syn = f.train[f.train["source"] == "synthetic"]
    assert syn["label"].value_counts().to_dict() == {"blue": 5, "green": 5, "red": 5}  # half of 10 per class


def test_synth_with_a_classifier_alone_writes_the_scores_train_ranks_by(toy, trained_run, tmp_path):
    """`synth --classifier RUN` without --min-confidence keeps every image and writes the score column, which
    `train --synth-filter top<q>` then uses without a --synth-scorer: the same scores --synth-scorer RUN gives."""
    from click.testing import CliRunner

    from augment.spec import DataSpec
    from cli import cli
    from clf.predict import score_manifest
    from gen.options import GanOptions
    from gen.train import train_gan

    gan = train_gan(GanOptions(data=DataSpec(str(toy["train"])), out=str(tmp_path / "gans"), size=32, steps=1,
                               batch=4, nz=16, ngf=8, ndf=8, snapshot_every=1, log_every=1, min_class_images=4,
                               judge_steps=0, progress=False))
    syn = tmp_path / "syn"
    res = CliRunner().invoke(cli, ["synth", "--gan", str(gan), "--all", "--n", "4", "--classifier", str(trained_run),
                                   "--device", "cpu", "--out", str(syn)])
    assert res.exit_code == 0, res.output
    saved = pd.read_csv(syn / "manifest.csv")
    assert len(saved) == 12 and saved["score"].between(0, 1).all()
    rescored = score_manifest(saved.drop(columns="score"), trained_run)
    assert (saved["score"] - rescored["score"]).abs().max() < 1e-5
    f = _frames(toy, syn, ratio=1.0, balance=False, synth_filter="top0.5")  # no --synth-scorer needed
    assert f.train[f.train["source"] == "synthetic"]["label"].value_counts().to_dict() == {"blue": 2, "green": 2,
                                                                                           "red": 2}


def test_sample_weights_make_a_weighted_mean_and_weight_zero_drops_an_image():
    from clf.losses import classification_loss, soft_targets

    torch.manual_seed(0)
    logits, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    t = soft_targets(y, 3, 0.0)
    for kind in ("ce", "focal"):
        plain = classification_loss(logits, t, kind)
        assert classification_loss(logits, t, kind, sample_weight=torch.ones(6)).item() == pytest.approx(plain.item())
        w = torch.tensor([1, 1, 1, 0, 0, 0.0])
        assert classification_loss(logits, t, kind, sample_weight=w).item() == pytest.approx(
            classification_loss(logits[:3], t[:3], kind).item())
        half = torch.tensor([1, 1, 1, 0.5, 0.5, 0.5])
        per = torch.stack([classification_loss(logits[i:i + 1], t[i:i + 1], kind) for i in range(6)])
        assert classification_loss(logits, t, kind, sample_weight=half).item() == pytest.approx(
            float((per * half).sum() / half.sum()), rel=1e-5)


def test_real_last_trains_its_epochs_on_real_images_only_and_the_weight_reaches_the_loss(toy, synth_dir, tmp_path,
                                                                                        monkeypatch):
    from clf import losses, module
    from clf.train import train

    seen = []
    orig = losses.classification_loss

    def spy(logits, targets, kind="ce", weight=None, gamma=2.0, sample_weight=None, **kw):
        seen.append(None if sample_weight is None else sorted(set(sample_weight.tolist())))
        return orig(logits, targets, kind, weight, gamma, sample_weight, **kw)

    monkeypatch.setattr(module, "classification_loss", spy)
    run = train(tiny_options(toy["train"], tmp_path, epochs=3, synth=str(synth_dir), ratio=1.0, synth_weight=0.25,
                             real_last=1))
    rows = pd.read_csv(run / "metrics.csv")
    real = int(rows["train_images"].iloc[-1])
    assert rows["train_images"].tolist() == [2 * real, 2 * real, real]  # ratio 1 doubles; the last epoch: reals
    assert any(s == [0.25, 1.0] for s in seen if s)  # synthetic images at 0.25 beside real ones at 1
    # best.pt is chosen among the real-only epochs: the schedule the run reports is the one it names
    assert torch.load(run / "best.pt", weights_only=False)["epoch"] == 2


@pytest.mark.parametrize("kw, message", [
    ({"real_last": 2, "epochs": 2}, "--real-last 2: the run has 2 epoch"),
    ({"synth_weight": 0.5, "synth": None, "ratio": None}, "--synth-weight: only mean something with --synth"),
    ({"synth_filter": "best"}, "--synth-filter: synthetic filter 'best'"),
    ({"synth_scorer": "x"}, "--synth-scorer scores synthetic images for --synth-filter"),
    ({"synth_weight": 0.5, "mixup": 0.2}, "--synth-weight with --mixup"),
    ({"synth_weight": 0.0}, "--synth-weight"),
    ({"real_last": 1, "patience": 2}, "--real-last with --patience"),
])
def test_synthetic_use_mistakes_are_one_line_before_any_folder(toy, synth_dir, tmp_path, kw, message):
    from clf.train import train

    base = {"synth": str(synth_dir), "ratio": 1.0, **kw}
    with pytest.raises(UserError, match=message):
        train(tiny_options(toy["train"], tmp_path / "out", **base))
    assert not (tmp_path / "out").exists()


def test_cifar_stem_resnet_keeps_a_32px_image_fine_and_trains_and_reloads_by_name(toy, tmp_path):
    from clf.checkpoint import load_trained
    from clf.models import create_classifier, data_config
    from clf.train import train

    m = create_classifier("resnet10_cifar", 3)
    assert m.forward_features(torch.zeros(1, 3, 32, 32)).shape[-2:] == (4, 4)  # timm's resnet10t: 1 x 1
    assert data_config(m, "resnet10_cifar", None, False)["size"] == 32
    run = train(tiny_options(toy["train"], tmp_path, model="resnet10_cifar", aug="crop", epochs=1))
    tm = load_trained(run)
    assert type(tm.model).__name__ == "CifarResNet" and tm.label_map.num_classes == 3


def test_a_run_from_before_these_options_resumes(toy, tmp_path):
    import json

    from clf.options import OPTIONS_BEFORE
    from clf.train import train

    run = train(tiny_options(toy["train"], tmp_path, epochs=1))
    cfg = json.loads((run / "config.json").read_text())
    for k in OPTIONS_BEFORE:
        cfg["options"].pop(k)
    (run / "config.json").write_text(json.dumps(cfg))
    train(tiny_options(toy["train"], tmp_path, epochs=1, resume=str(run)))  # no "options differ"
    with pytest.raises(UserError, match="synth_weight: run has 1.0, now 0.5"):
        train(tiny_options(toy["train"], tmp_path, epochs=1, resume=str(run), synth=str(run), ratio=1.0,
                           synth_weight=0.5))
