"""Prediction, Kaggle export, the GAN filter's scorer, and the course-grader API."""
from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch

from common.errors import UserError


def _cls(file_name: str) -> str:
    """The toy files are named <class><NNN>.png."""
    return file_name.split(".")[0].rstrip("0123456789")


def test_predict_writes_file_to_class_name_and_probs(trained_run, toy, tmp_path):
    from clf.options import PredictOptions
    from clf.predict import predict

    out, probs = tmp_path / "preds.json", tmp_path / "probs.csv"
    predict(PredictOptions(model=str(trained_run), images=str(toy["flat"]), out=str(out), probs=str(probs),
                           tta=("hflip", "vflip")))
    preds = json.loads(out.read_text())
    assert len(preds) == 12 and set(preds.values()) <= {"blue", "green", "red"}
    assert sum(preds[f] == _cls(f) for f in preds) >= 8  # file names start with the class
    p = pd.read_csv(probs)
    assert list(p.columns) == ["file", "blue", "green", "red"]
    assert np.allclose(p[["blue", "green", "red"]].sum(1), 1.0, atol=1e-4)
    with pytest.raises(UserError, match="--tta"):
        predict(PredictOptions(model=str(trained_run), images=str(toy["flat"]), out=str(out), tta=("rot90",)))


def test_submit_follows_template_order_and_refuses_missing_files(trained_run, toy, tmp_path):
    from clf.options import SubmitOptions
    from clf.submit import submit

    names = sorted(os.listdir(toy["flat"]))[::-1]
    tmpl = tmp_path / "sample_submission.csv"
    pd.DataFrame({"Id": [n.rsplit(".", 1)[0] for n in names], "Category": 0}).to_csv(tmpl, index=False)
    out = tmp_path / "sub.csv"
    assert submit(SubmitOptions(model=str(trained_run), images=str(toy["flat"]), out=str(out), template=str(tmpl),
                                label_as="index")) == 12
    sub = pd.read_csv(out)
    assert list(sub.columns) == ["Id", "Category"] and list(sub["Id"]) == [n.rsplit(".", 1)[0] for n in names]
    assert set(sub["Category"]) <= {0, 1, 2}
    pd.DataFrame({"Id": ["missing.png"], "Category": 0}).to_csv(tmpl, index=False)
    with pytest.raises(UserError, match="missing.png"):
        submit(SubmitOptions(model=str(trained_run), images=str(toy["flat"]), out=str(out), template=str(tmpl)))


def test_load_scorer_gives_class_probabilities(trained_run, toy):
    from PIL import Image

    from cli import cli  # noqa: F401  (the scorer is handed out by cli.py; gen never imports clf)
    from clf.predict import load_scorer

    score = load_scorer(trained_run)
    imgs = torch.stack([torch.from_numpy(np.array(Image.open(p).convert("RGB"))).permute(2, 0, 1)
                        for p in sorted(toy["flat"].iterdir())])
    p_red = score(imgs, "red")
    assert p_red.shape == (12,) and ((p_red >= 0) & (p_red <= 1)).all()
    reds = torch.tensor([p.name.startswith("red") for p in sorted(toy["flat"].iterdir())])
    assert p_red[reds].mean() > p_red[~reds].mean()
    with pytest.raises(UserError, match="unknown class"):
        score(imgs, "purple")


def test_grader_api_fast_train_writes_nothing_and_classifies(toy, tmp_path, monkeypatch):
    from clf import classify, train_classifier
    from clf import grader

    # One epoch of 12 images is a single optimizer step: too few to beat chance reliably.
    monkeypatch.setattr(grader, "FAST", {**grader.FAST, "size": 32, "epochs": 8})
    img_dir = toy["flat"]
    gt = {f: {"blue": 0, "green": 1, "red": 2}[_cls(f)] for f in sorted(os.listdir(img_dir))}
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(img_dir))
    model = train_classifier(gt, str(img_dir), fast_train=True)
    assert os.listdir(tmp_path) == [] and sorted(os.listdir(img_dir)) == before  # no file written anywhere
    path = tmp_path / "birds_model.pt"
    torch.save(model.state_dict(), path)
    res = classify(str(path), str(img_dir))
    assert set(res) == set(gt) and set(res.values()) <= {0, 1, 2}
    assert sum(res[f] == gt[f] for f in gt) > len(gt) / 3
