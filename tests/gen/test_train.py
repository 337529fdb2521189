"""train-gan: the run folder, exact resume, refusals (mismatched resume options, small classes, wrong weights)."""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from dataclasses import replace

import pytest
import torch

from common.errors import UserError
from gen.checkpoint import load_checkpoint
from gen.train import train_gan


def _weights(run):
    ck = load_checkpoint(run / "last.pt")
    return ck, [t for m in ck["models"] for part in ("G", "G_ema", "D") for t in m[part].values()]


def test_run_folder_holds_everything(gan_data, tiny_opts):
    run = train_gan(tiny_opts(gan_data()))
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "labels.json", "reals.png", "fakes000000.png", "fakes000002.png", "stats.jsonl",
            "last.pt", "losses.png"} <= names
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["command"] == "train-gan" and cfg["class_names"] == ["cat", "dog"]
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    loss_rows = [r for r in rows if "loss_d" in r]
    assert [r["step"] for r in loss_rows] == [1, 2]
    assert {"loss_g", "d_real", "d_fake", "step_time", "images_per_s"} <= set(loss_rows[0])
    assert set(rows[-1]["diversity"]) == {"cat", "dog"}
    ck = load_checkpoint(run / "last.pt")
    assert ck["step"] == 2 and ck["class_names"] == ["cat", "dog"]
    assert {"G", "G_ema", "D", "opt_g", "opt_d"} <= set(ck["models"][0]) and "rng" in ck


@pytest.mark.parametrize("mode", ["conditional", "per-class"])
def test_resume_continues_bit_identically(gan_data, tiny_opts, mode):
    data = gan_data()
    straight = train_gan(tiny_opts(data, mode=mode, steps=4))
    first = train_gan(tiny_opts(data, mode=mode, steps=2))
    resumed = train_gan(tiny_opts(data, mode=mode, steps=4, resume=str(first)))
    assert resumed == first
    ck_a, wa = _weights(straight)
    ck_b, wb = _weights(resumed)
    assert ck_a["step"] == ck_b["step"] == 4
    assert len(wa) == len(wb) and all(torch.equal(a, b) for a, b in zip(wa, wb))
    oa, ob = ck_a["models"][0]["opt_g"]["state"], ck_b["models"][0]["opt_g"]["state"]
    assert all(torch.equal(oa[k]["exp_avg"], ob[k]["exp_avg"]) for k in oa)


def test_resume_refuses_changed_options(gan_data, tiny_opts):
    data = gan_data()
    run = train_gan(tiny_opts(data))
    with pytest.raises(UserError, match=r"cannot resume.*lr_g"):
        train_gan(tiny_opts(data, steps=4, lr_g=1e-3, resume=str(run)))


def test_per_class_refuses_a_small_class(gan_data, tiny_opts):
    data = gan_data({"cat": 6, "dog": 2})
    with pytest.raises(UserError, match=r"dog \(2\).*--mode conditional"):
        train_gan(tiny_opts(data, mode="per-class"))
    assert not any((data.parent / "runs").glob("*")) if (data.parent / "runs").exists() else True


def test_an_upscale_typo_fails_before_any_run_folder(gan_data, tiny_opts, tmp_path):
    data = gan_data({"cat": 6, "dog": 6})
    with pytest.raises(UserError, match=r"--upscale 'bicubc': unknown; choose one of nearest"):
        train_gan(tiny_opts(data, upscale="bicubc"))
    assert not (tmp_path / "runs").exists()


def test_init_from_loads_weights_and_refuses_other_classes(gan_data, tiny_opts):
    data = gan_data()
    src = train_gan(tiny_opts(data))
    run = train_gan(tiny_opts(data, steps=1, init_from=str(src)))
    assert load_checkpoint(run / "last.pt")["step"] == 1
    other = gan_data({"ant": 5, "bee": 5, "cow": 5}, name="other")
    with pytest.raises(UserError, match=r"checkpoint does not fit.*classes cat, dog vs ant, bee, cow"):
        train_gan(tiny_opts(other, init_from=str(src)))
    with pytest.raises(UserError, match=r"size 32 vs 64"):
        train_gan(tiny_opts(data, size=64, init_from=str(src / "last.pt")))
    assert sorted(p.name for p in src.parent.iterdir()) == sorted([src.name, run.name])  # refusals leave no stub


def test_init_from_refuses_a_foreign_file(gan_data, tiny_opts, tmp_path):
    bad = tmp_path / "clf.pt"
    torch.save({"model": {"w": torch.zeros(2)}}, bad)
    with pytest.raises(UserError, match="not a SynthMix GAN checkpoint"):
        train_gan(tiny_opts(gan_data(), init_from=str(bad)))


def test_a_kill_during_the_first_checkpoint_write_is_explained_and_its_temp_file_removed(gan_data, tiny_opts,
                                                                                         monkeypatch):
    from gen import train as gt

    class Killed(Exception):
        pass

    def torn_write(path, ckpt):  # SIGKILL mid-write: the temp file stays, no rename happens
        Path(path).parent.joinpath(f".{Path(path).name}.abc123.tmp.pt").write_bytes(b"\0" * 100)
        raise Killed()

    monkeypatch.setattr(gt, "save_checkpoint", torn_write)
    # SIGKILL runs no cleanup at all: not even the removal of a run folder that failed before its first checkpoint
    monkeypatch.setattr(gt, "discard_on_error", lambda *a, **k: contextlib.nullcontext())
    with pytest.raises(Killed):
        train_gan(tiny_opts(gan_data()))
    monkeypatch.undo()
    run = next(Path(tiny_opts(gan_data()).out).iterdir())
    assert list(run.glob(".*.tmp*")) and not (run / "last.pt").exists()
    with pytest.raises(UserError, match=r"--resume .*: no last.pt there: the run stopped before its first checkpoint"):
        train_gan(tiny_opts(gan_data(), resume=str(run)))
    assert not list(run.glob(".*.tmp*"))


def _events(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"images": 0, "scalars": 0})  # 0: keep every event
    acc.Reload()
    return acc


def test_tensorboard_curves_and_a_resume_that_logs_no_step_twice(gan_data, tiny_opts, monkeypatch):
    """Killed after logging steps 3-4 but before last.pt of step 4: the resumed run's curves go on from step 2's
    checkpoint, and TensorBoard shows each step once."""
    from gen import train as gt

    class Killed(Exception):
        pass

    save = gt.save_checkpoint

    def die_at_step_4(path, ckpt):
        if ckpt["step"] == 4:
            raise Killed()
        save(path, ckpt)

    data = gan_data()
    opts = tiny_opts(data, steps=4, score_every=2, score_n=8, score_extractor="effnet-lite0")
    monkeypatch.setattr(gt, "save_checkpoint", die_at_step_4)
    with pytest.raises(Killed):
        train_gan(opts)
    monkeypatch.undo()
    run = next(Path(opts.out).iterdir())
    assert [e.step for e in _events(run).Scalars("train/loss_d")] == [1, 2, 3, 4]  # the kill lost none of them
    train_gan(replace(opts, resume=str(run)))

    ev = _events(run)
    tags = set(ev.Tags()["scalars"])
    assert {"train/loss_d", "train/loss_g", "train/d_real", "train/d_fake", "train/images_per_s", "diversity/cat",
            "diversity/dog", "agreement/cat", "agreement/mean", "score/kid8_full_lite0/kid"} <= tags
    for tag in tags:
        steps = [e.step for e in ev.Scalars(tag)]
        assert len(steps) == len(set(steps)), f"{tag}: steps {steps} logged twice"
    assert [e.step for e in ev.Scalars("train/loss_d")] == [1, 2, 3, 4]
    assert [e.step for e in ev.Scalars("diversity/cat")] == [0, 2, 4]
    assert [e.step for e in ev.Scalars("score/kid8_full_lite0/kid")] == [2, 4]
    # the values are stats.jsonl's, the one the resumed run kept
    rows = {r["step"]: r for r in map(json.loads, (run / "stats.jsonl").read_text().splitlines()) if "loss_d" in r}
    assert [e.value for e in ev.Scalars("train/loss_g")] == pytest.approx([rows[s]["loss_g"] for s in (1, 2, 3, 4)])
    assert set(ev.Tags()["images"]) == {"reals", "fakes"}
    assert [e.step for e in ev.Images("fakes")] == [0, 2, 4]


def test_no_tensorboard_writes_no_events_and_a_missing_package_is_said_once(gan_data, tiny_opts, monkeypatch,
                                                                              capsys):
    import sys

    from common import tensorboard_logger

    data = gan_data()
    run = train_gan(tiny_opts(data, tensorboard=False))
    assert not list(run.glob("events.out.tfevents.*")) and (run / "stats.jsonl").exists()

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed: `import tensorboard` fails
    monkeypatch.setattr(tensorboard_logger, "_said", False)
    capsys.readouterr()
    runs = [train_gan(tiny_opts(data)) for _ in range(2)]
    assert all(not list(r.glob("events.out.tfevents.*")) and (r / "last.pt").exists() for r in runs)
    err = capsys.readouterr().err
    assert err.count("tensorboard is not installed") == 1 and "pip install -r requirements.txt" in err
