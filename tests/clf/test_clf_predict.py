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
    doc = json.loads(out.read_text())
    assert doc["label_as"] == "name"  # a folder of classes has no ids: names by default
    preds = doc["predictions"]
    assert len(preds) == 12 and set(preds.values()) <= {"blue", "green", "red"}
    assert sum(preds[f] == _cls(f) for f in preds) >= 8  # file names start with the class
    p = pd.read_csv(probs)
    assert list(p.columns) == ["file", "name:blue", "name:green", "name:red"]
    assert np.allclose(p[["name:blue", "name:green", "name:red"]].sum(1), 1.0, atol=1e-4)
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
    # Ids neither contiguous nor in name order: classify must answer in them, not in its own index.
    gt = {f: {"blue": 40, "green": 7, "red": 13}[_cls(f)] for f in sorted(os.listdir(img_dir))}
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(img_dir))
    model = train_classifier(gt, str(img_dir), fast_train=True)
    assert os.listdir(tmp_path) == [] and sorted(os.listdir(img_dir)) == before  # no file written anywhere
    path = tmp_path / "birds_model.pt"
    torch.save(model.state_dict(), path)
    res = classify(str(path), str(img_dir))
    assert set(res) == set(gt) and set(res.values()) <= {40, 7, 13}
    assert sum(res[f] == gt[f] for f in gt) > len(gt) / 3


IDS = {"blue": "40", "green": "7", "red": "13"}  # neither contiguous nor in name order (blue < green < red)


@pytest.fixture(scope="module")
def id_run(toy, tmp_path_factory):
    """A run trained from the Russian-art layout: image_name,label_id + a class table of id,name."""
    from clf.train import train
    from tests.clf.conftest import tiny_options

    root = tmp_path_factory.mktemp("ids")
    files = sorted(toy["train"].rglob("*.png"))
    pd.DataFrame({"image_name": [f.relative_to(toy["train"]).as_posix() for f in files],
                  "label_id": [IDS[f.parent.name] for f in files]}).to_csv(root / "train.csv", index=False)
    pd.DataFrame({"id": list(IDS.values()), "name": list(IDS)}).to_csv(root / "classes.csv", index=False)
    opts = tiny_options(root / "train.csv", root / "runs", epochs=4)
    opts.data.image_root, opts.data.class_table = str(toy["train"]), str(root / "classes.csv")
    return train(opts)


def test_submission_is_in_the_datasets_own_ids_by_default(id_run, toy, tmp_path):
    from augment.labels import LabelMap
    from clf.options import PredictOptions, SubmitOptions
    from clf.predict import predict
    from clf.submit import submit

    assert [c.get("id") for c in LabelMap.load(id_run).to_dict()["classes"]] == ["40", "7", "13"]
    out = tmp_path / "sub.csv"
    submit(SubmitOptions(model=str(id_run), images=str(toy["flat"]), out=str(out)))
    sub = pd.read_csv(out)
    want = {f: int(IDS[_cls(f)]) for f in sub["id"]}
    assert set(sub["label"]) <= {40, 7, 13}
    assert sum(v == want[f] for f, v in zip(sub["id"], sub["label"])) >= 9  # the model is fine, in ids
    submit(SubmitOptions(model=str(id_run), images=str(toy["flat"]), out=str(out), label_as="name"))
    assert set(pd.read_csv(out)["label"]) <= set(IDS)
    preds = tmp_path / "preds.json"
    probs = tmp_path / "probs.csv"
    predict(PredictOptions(model=str(id_run), images=str(toy["flat"]), out=str(preds), probs=str(probs)))
    doc = json.loads(preds.read_text())
    assert doc["label_as"] == "id" and set(doc["predictions"].values()) <= {40, 7, 13}
    assert list(pd.read_csv(probs).columns) == ["file", "id:40", "id:7", "id:13"]


def test_integer_labels_are_ids_and_a_folder_run_refuses_id(toy, trained_run, tmp_path):
    from augment.spec import DataSpec, load_dataset
    from clf.options import SubmitOptions
    from clf.submit import submit

    files = sorted(toy["train"].rglob("*.png"))
    pd.DataFrame({"file": [str(f) for f in files], "class_id": [IDS[f.parent.name] for f in files]}).to_csv(
        tmp_path / "gt.csv", index=False)
    _, lm = load_dataset(DataSpec(str(tmp_path / "gt.csv")), progress=False)
    assert lm.names == ("7", "13", "40") and lm.labels_as("id") == [7, 13, 40] and lm.labels_as("index") == [0, 1, 2]
    with pytest.raises(UserError, match="--label-as id: this model was trained without dataset label ids"):
        submit(SubmitOptions(model=str(trained_run), images=str(toy["flat"]), out=str(tmp_path / "s.csv"),
                             label_as="id"))
    assert not (tmp_path / "s.csv").exists()


def test_skip_bad_leaves_unreadable_images_out_and_an_id_only_template_gains_a_label(trained_run, toy, tmp_path):
    import shutil

    from clf.options import PredictOptions, SubmitOptions
    from clf.predict import predict
    from clf.submit import submit

    images = tmp_path / "images"
    shutil.copytree(toy["flat"], images)
    (images / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"broken.png: .*--skip-bad"):
        predict(PredictOptions(model=str(trained_run), images=str(images), out=str(tmp_path / "p.json")))
    predict(PredictOptions(model=str(trained_run), images=str(images), out=str(tmp_path / "p.json"), skip_bad=True))
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["skipped"] == ["broken.png"] and len(doc["predictions"]) == 12
    tmpl = tmp_path / "ids.csv"
    pd.DataFrame({"file": sorted(p.name for p in images.iterdir())}).to_csv(tmpl, index=False)
    n = submit(SubmitOptions(model=str(trained_run), images=str(images), out=str(tmp_path / "s.csv"),
                             template=str(tmpl), skip_bad=True))
    sub = pd.read_csv(tmp_path / "s.csv")
    assert n == 13 and list(sub.columns) == ["file", "label"] and sub["label"].notna().all()
