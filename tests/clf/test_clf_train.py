"""Training: beats chance, the metrics/stdout contract, early stopping, stages, loss switch, resume, mixing."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from common.errors import UserError
from tests.clf.conftest import tiny_options


def test_trained_run_beats_chance_and_writes_its_folder(trained_run):
    m = json.loads((trained_run / "metrics.json").read_text())
    for key in ("best_epoch", "val_acc", "val_macro_f1", "test_acc", "test_macro_f1", "test_per_class_f1"):
        assert key in m, key
    assert m["test_acc"] > 1 / 3 + 0.2 and m["val_acc"] > 1 / 3
    assert set(m["test_per_class_f1"]) == {"blue", "green", "red"}
    for f in ("config.json", "labels.json", "best.pt", "last.pt", "metrics.csv", "loss.png", "metrics.png", "lr.png",
              "confusion_val.png", "per_class_f1_val.png", "confusion_test.png"):
        assert (trained_run / f).exists(), f
    rows = pd.read_csv(trained_run / "metrics.csv")
    assert list(rows["epoch"]) == [0, 1, 2] and {"train_loss", "val_loss", "val_acc", "lr"} <= set(rows.columns)


def test_last_pt_holds_the_last_finished_epoch(trained_run):
    import torch

    last = torch.load(trained_run / "last.pt", map_location="cpu", weights_only=False)
    best = torch.load(trained_run / "best.pt", map_location="cpu", weights_only=False)
    assert last["epoch"] == 2  # 3 epochs: 0, 1, 2 (it held the best epoch's weights before)
    assert best["epoch"] <= last["epoch"]


def test_checkpoint_is_self_describing(trained_run):
    from clf.checkpoint import read_checkpoint

    ck = read_checkpoint(trained_run / "best.pt")
    sm = ck["synthmix"]
    assert sm["arch"] == "test_resnet" and sm["class_names"] == ["blue", "green", "red"]
    assert sm["data_config"]["size"] == 24 and "mean" in sm["data_config"]
    assert sm["options"]["lr"] == 1e-2 and "epoch" in ck and ck["optimizer_states"]


def test_cli_names_the_run_and_its_metrics(toy, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    r = CliRunner().invoke(cli, ["train", "--data", str(toy["train"]), "--test-data", str(toy["test"]),
                                 "--model", "test_resnet", "--size", "24", "--epochs", "1", "--batch-size", "8",
                                 "--workers", "0", "--aug", "none", "--no-progress", "--no-tensorboard",
                                 "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    last = r.stdout.strip().splitlines()[-1]
    metrics = last.split("(metrics: ", 1)[1].rstrip(")")
    assert last.startswith(f"wrote {tmp_path}") and metrics.endswith("metrics.json")
    res = json.loads(open(metrics).read())
    assert {"best_epoch", "val_acc", "val_macro_f1", "test_acc", "test_macro_f1", "test_per_class_f1"} <= set(res)
    assert not list(Path(res["run_dir"]).glob("events.out.tfevents.*"))  # --no-tensorboard


def test_early_stopping_stops(toy, tmp_path):
    from clf.train import train

    # A frozen backbone and lr ~0 leave the model unchanged, so the selection metric never improves.
    run = train(tiny_options(toy["train"], tmp_path, epochs=6, lr=1e-12, min_lr=0, patience=1, aug="none",
                             trainable="head"))
    m = json.loads((run / "metrics.json").read_text())
    assert m["stopped_early"] and m["epochs_run"] == 2


def test_stages_switch_trainable_parts_optimizer_and_loss(toy, tmp_path):
    from clf.train import train

    run = train(tiny_options(toy["train"], tmp_path, stages=("1:head:adamw:1e-2", "2:last:1:sgd:1e-3"),
                             switch_loss="focal", switch_epoch=2, label_smoothing=0.1))
    rows = pd.read_csv(run / "metrics.csv")
    assert list(rows["trainable"]) == ["head", "last:1", "last:1"]
    assert list(rows["opt"]) == ["adamw", "sgd", "sgd"]
    assert list(rows["loss_fn"]) == ["ce", "ce", "focal"]
    assert rows["lr"].iloc[1] == pytest.approx(1e-3)


@pytest.mark.parametrize("workers", [0, 1])
def test_resume_is_bit_identical_to_an_uninterrupted_run(toy, tmp_path, monkeypatch, workers):
    """Killed at the start of epoch 1 and resumed: the same weights and metrics.csv as 3 epochs straight, with
    random augmentation, a balanced sampler, mixup, loader workers and a stage change in play."""
    import torch

    from clf import module as mod
    from clf.train import train

    class Killed(Exception):
        pass

    def opts(out, **kw):
        return tiny_options(toy["train"], out, aug="basic", workers=workers, balanced_sampler=True, mixup=0.2,
                            stages=("1:head:adamw:1e-2", "2:all:sgd:1e-2"), **kw)

    straight = train(opts(tmp_path / "straight"))
    orig = mod.ClassifierModule.on_train_epoch_start

    def die_at_epoch_1(self):
        if self.current_epoch == 1:
            raise Killed()
        orig(self)

    monkeypatch.setattr(mod.ClassifierModule, "on_train_epoch_start", die_at_epoch_1)
    with pytest.raises(Killed):
        train(opts(tmp_path / "killed"))
    monkeypatch.setattr(mod.ClassifierModule, "on_train_epoch_start", orig)
    run = next((tmp_path / "killed").iterdir())
    assert pd.read_csv(run / "metrics.csv")["epoch"].tolist() == [0]
    with pytest.raises(UserError, match="options differ"):
        train(opts(tmp_path / "killed", lr=0.5, resume=str(run)))
    train(opts(tmp_path / "killed", resume=str(run)))
    assert len(list((tmp_path / "killed").iterdir())) == 1
    a, b = (torch.load(r / "last.pt", weights_only=False)["state_dict"] for r in (straight, run))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ma, mb = (pd.read_csv(r / "metrics.csv").drop(columns="time_s") for r in (straight, run))
    pd.testing.assert_frame_equal(ma, mb)
    assert ma["epoch"].tolist() == [0, 1, 2]


def test_mixup_class_weights_and_balanced_sampler_train(toy, tmp_path):
    from clf.train import train

    run = train(tiny_options(toy["train"], tmp_path, epochs=1, mixup=0.2, cutmix=1.0, class_weighted=True,
                             clip_grad=1.0, select="acc"))
    assert (run / "best.pt").exists()
    run = train(tiny_options(toy["train"], tmp_path, epochs=1, balanced_sampler=True, loss="focal"))
    assert (run / "best.pt").exists()


def test_synthetic_mixing_counts(toy, synth_dir):
    from augment.spec import DataSpec
    from clf.data import class_counts, load_frames

    def frames(**kw):
        return load_frames(DataSpec(str(toy["train"])), val_data=str(toy["test"]), val_fraction=0.2, test_data=None,
                           seed=0, progress=False, **kw)

    real = frames(synth=None, ratio=None, balance=False)
    c = class_counts(frames(synth=str(synth_dir), ratio=0.5, balance=False))
    assert {k: v["synthetic"] for k, v in c.items()} == {"blue": 6, "green": 4, "red": 3}
    c = class_counts(frames(synth=str(synth_dir), ratio=2.0, balance=False))  # capped by the 10 that exist
    assert {k: v["synthetic"] for k, v in c.items()} == {"blue": 10, "green": 10, "red": 10}
    c = class_counts(frames(synth=str(synth_dir), ratio=None, balance=True))
    assert {k: v["real"] + v["synthetic"] for k, v in c.items()} == {"blue": 12, "green": 12, "red": 12}
    zero = frames(synth=str(synth_dir), ratio=0.0, balance=False)
    pd.testing.assert_frame_equal(zero.train[["path", "label"]], real.train[["path", "label"]])
    assert (zero.val["source"] == "real").all()
    with pytest.raises(UserError, match="--ratio"):
        frames(synth=str(synth_dir), ratio=None, balance=False)


def test_option_typos_fail_before_any_run_folder(toy, tmp_path):
    from clf.train import train

    for bad in ({"upscale": "magic"}, {"stages": ("3:hed:adamw:1e-3",)}):
        with pytest.raises(UserError):
            train(tiny_options(toy["train"], tmp_path / "runs", **bad))
        assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_kill_during_the_first_last_pt_write_resumes_from_best_and_removes_the_temp_file(toy, tmp_path,
                                                                                           monkeypatch):
    from clf import checkpoint as ck
    from clf.train import train

    class Killed(Exception):
        pass

    orig = ck.AtomicCheckpointIO.save_checkpoint

    def torn_last(self, checkpoint, path, storage_options=None):
        if str(path).endswith("last.pt"):  # SIGKILL mid-write: the temp file stays, no rename happens
            Path(path).parent.joinpath(".last.pt.abc123.tmp.pt").write_bytes(b"\0" * 100)
            raise Killed()
        orig(self, checkpoint, path, storage_options)

    monkeypatch.setattr(ck.AtomicCheckpointIO, "save_checkpoint", torn_last)
    with pytest.raises(Killed):
        train(tiny_options(toy["train"], tmp_path))
    monkeypatch.undo()
    run = next(tmp_path.iterdir())
    assert (run / "best.pt").exists() and not (run / "last.pt").exists() and list(run.glob(".*.tmp*"))
    train(tiny_options(toy["train"], tmp_path, resume=str(run)))
    assert not list(run.glob(".*.tmp*"))
    assert pd.read_csv(run / "metrics.csv")["epoch"].tolist() == [0, 1]


def _events(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"images": 0, "scalars": 0})  # 0: keep every event
    acc.Reload()
    return acc


def test_tensorboard_holds_metrics_csv_curves_and_figures_and_a_resume_logs_no_epoch_twice(toy, tmp_path,
                                                                                          monkeypatch):
    """Killed after epoch 1 was logged but before its checkpoint: the resumed run logs epochs 1-2 again from
    epoch 0's last.pt, and TensorBoard shows each epoch once, with metrics.csv's values."""
    from clf import module as mod
    from clf.train import train

    class Killed(Exception):
        pass

    orig = mod.ClassifierModule.on_train_epoch_end

    def die_after_logging_epoch_1(self):
        orig(self)
        if self.current_epoch == 1:
            raise Killed()

    opts = tiny_options(toy["train"], tmp_path, epochs=3, test_data=str(toy["test"]))
    monkeypatch.setattr(mod.ClassifierModule, "on_train_epoch_end", die_after_logging_epoch_1)
    with pytest.raises(Killed):
        train(opts)
    monkeypatch.undo()
    run = next(tmp_path.iterdir())
    assert [e.step for e in _events(run).Scalars("val/acc")] == [0, 1]
    from dataclasses import replace

    train(replace(opts, resume=str(run)))

    ev = _events(run)
    tags = set(ev.Tags()["scalars"])
    assert {"train/loss", "train/acc", "val/loss", "val/acc", "val/macro_f1", "lr", "test/acc",
            "test/macro_f1"} <= tags
    for tag in tags - {"test/acc", "test/macro_f1", "test/micro_f1", "test/hier_acc"}:
        assert [e.step for e in ev.Scalars(tag)] == [0, 1, 2], tag
    rows = pd.read_csv(run / "metrics.csv")
    assert [e.value for e in ev.Scalars("val/macro_f1")] == pytest.approx(list(rows["val_macro_f1"]))
    assert [e.value for e in ev.Scalars("train/loss")] == pytest.approx(list(rows["train_loss"]))
    m = json.loads((run / "metrics.json").read_text())
    assert [(e.step, e.value) for e in ev.Scalars("test/acc")] == [(m["best_epoch"], pytest.approx(m["test_acc"]))]
    assert {"figures/confusion_val", "figures/confusion_test", "figures/loss", "figures/metrics",
            "figures/per_class_f1_test"} <= set(ev.Tags()["images"])
    assert not (run / "hparams.yaml").exists()  # the options are config.json's


def test_no_tensorboard_writes_no_events_and_a_missing_package_only_a_note(toy, tmp_path, monkeypatch, capsys):
    import sys

    from clf.train import train
    from common import tensorboard_logger

    run = train(tiny_options(toy["train"], tmp_path / "off", epochs=1, tensorboard=False))
    assert not list(run.glob("events.out.tfevents.*")) and (run / "metrics.json").exists()

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed: `import tensorboard` fails
    monkeypatch.setattr(tensorboard_logger, "_said", False)
    capsys.readouterr()
    run = train(tiny_options(toy["train"], tmp_path / "missing", epochs=1))
    assert not list(run.glob("events.out.tfevents.*")) and (run / "metrics.json").exists()
    assert capsys.readouterr().err.count("tensorboard is not installed") == 1


def test_train_says_what_the_run_will_take_from_its_first_batches_and_its_first_epoch(toy, tmp_path, monkeypatch,
                                                                                       capsys):
    import re

    import common.eta
    from clf.train import train

    monkeypatch.setattr(common.eta, "MEASURE_S", 0.0)  # tiny batches: a pace from two of them
    monkeypatch.setattr(common.eta, "MEASURE_STEPS", 2)
    train(tiny_options(toy["train"], tmp_path / "runs", epochs=3, batch_size=4, progress=True))
    err = capsys.readouterr().err
    first = re.search(r"train: ([\d.]+) batches/s here: 3 epoch\(s\) of (\d+) batches take ≈ \d+ s more", err)
    assert first and float(first[1]) > 0 and int(first[2]) >= 4
    assert re.search(r"train: epoch 1 of 3 took \d+ s with validation: the other 2 ≈ \d+ s", err)
    train(tiny_options(toy["train"], tmp_path / "quiet", epochs=2))  # progress off (ablation cells): no lines
    assert "batches/s here" not in capsys.readouterr().err
