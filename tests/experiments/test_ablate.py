"""The ablation end to end on tiny grids.

Most tests swap the parts' entry points for deterministic fakes with the real signatures (tests/experiments/
fake_parts.py: each takes the part's own options dataclass) and run the cells in this process through submitit's
debug executor, so they check cells, records, resume, shards and the report in seconds. One test runs the real
parts (train-gan, synth, fid, train) as local submitit processes, and one drives the Slurm path through submitit.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from common.errors import UserError
from experiments import jobs
from experiments.ablate import AblateOptions, run_ablation

FAKES = {"train": "tests.experiments.fake_parts:train", "train-gan": "tests.experiments.fake_parts:train_gan",
         "synth": "tests.experiments.fake_parts:synth", "fid": "tests.experiments.fake_parts:run_fid"}


@pytest.fixture
def setup(tmp_path, make_folder, monkeypatch):
    for command, fake in FAKES.items():
        cls, _, made = jobs.COMMANDS[command]
        monkeypatch.setitem(jobs.COMMANDS, command, (cls, fake, made))
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    train = make_folder({"a": 8, "b": 2}, root=tmp_path / "train")
    test = make_folder({"a": 2, "b": 2}, root=tmp_path / "test")

    def config(augs=("none",), **extra):
        cfg = {"name": "tiny", "data": {"train": str(train), "test": str(test), "val": 0.5},
               "gan": {"train": {"steps": 3, "size": 32}},
               "grid": {"ratios": [0, 1, "balance"], "augs": list(augs), "pretrained": [False], "seeds": [0, 1, 2]},
               "classifier": {"model": "test_resnet", "epochs": 1, "size": 16, "options": {"batch-size": 4}},
               "fid": {"extractor": "effnet-lite0"}, **extra}
        path = tmp_path / f"cfg-{len(list(tmp_path.glob('cfg-*')))}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return str(path)

    def opts(cfg, **kw):
        return AblateOptions(config=cfg, **{"out": str(tmp_path / "runs"), "executor": "debug", **kw})

    def count(cmd):
        return sum(1 for ln in calls.read_text().splitlines() if ln.split()[0] == cmd) if calls.exists() else 0

    return config, opts, count, calls


def test_tiny_grid_end_to_end(setup):
    config, opts, count, calls = setup
    lines: list[str] = []
    folder = run_ablation(opts(config()), echo=lines.append)
    # the time of the rest follows the first finished cell (one recipe here: every cell priced by it)
    done = [ln for ln in lines if ln.startswith("[ablate] mix-") or ln.startswith("[ablate] cas-")]
    assert "12 cells to run" in "\n".join(lines) and len(done) == 12
    assert done[0].endswith("[1/12]; ≈ 0 s left for 11")
    assert done[-1].endswith("[12/12]")

    # Generator trained once, images drawn once, scored once; 3 ratios x 3 seeds + 3 CAS cells.
    assert (count("train-gan"), count("synth"), count("fid"), count("train")) == (1, 1, 1, 12)
    synth_call = next(ln for ln in calls.read_text().splitlines() if ln.startswith("synth"))
    assert "n=8 all=True" in synth_call  # ratio 1 x largest class (8) >= balance (6) and CAS (8)

    df = pd.read_csv(folder / "results.csv", dtype={"ratio": str})
    assert len(df) == 12 and set(df["status"]) == {"ok"}
    assert set(df.loc[df.kind == "mix", "ratio"]) == {"0", "1", "balance"}
    r = df[(df.ratio == "1") & (df.seed == 2)].iloc[0]
    assert r["test_acc"] == pytest.approx(0.60 + 0.02 + 0.05 + 0.002)
    assert json.loads(r["test_per_class_f1"])["b"] == pytest.approx(r["test_acc"] + 0.052)

    # Each cell got typed TrainOptions: ratio / balance / none, CAS on the synthetic manifest only.
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    assert sum("ratio=1.0 " in ln for ln in trains) == 3 and sum("balance=True" in ln for ln in trains) == 3
    assert sum("synth=None" in ln and "manifest.csv" not in ln for ln in trains) == 3
    cas = [ln for ln in trains if "manifest.csv" in ln]
    assert len(cas) == 3 and all("test=" + str(calls.parent / "test") in ln and "batch_size=4" in ln for ln in cas)
    assert all(p.name.endswith(".result.json") or p.suffix == ".json" for p in (folder / "jobs").iterdir())

    summary = (folder / "summary.md").read_text()
    rep = json.loads((folder / "summary.json").read_text())
    # ratio 1 vs 0: d = .050 .051 .052 -> mean .051, CI excludes 0 -> helped
    assert rep["verdict"] == "helped"
    assert "HELPED" in summary and "ratio=1" in rep["verdict_line"]
    p1 = next(p for p in rep["paired"]["test_acc"] if p["ratio"] == "1")
    assert p1["mean_diff"] == pytest.approx(0.051) and p1["n_pairs"] == 3
    assert rep["fid"]["fid"] == 12.5 and rep["fid"]["kid"] == 0.01
    assert next(c for c in rep["cas"] if c["metric"] == "test_acc")["mean"] == pytest.approx(0.30)
    # the rarest classes (b, then a: only two here) by test recall: tail CAS beside every mix arm
    assert rep["tail"]["classes"] == ["b", "a"]
    tail = {r["arm"]: r for r in rep["tail"]["recall"]}
    assert tail["CAS (synthetic only)"]["mean"] == pytest.approx(0.75 * 0.30) and tail["0"]["n"] == 3
    assert "## The rarest classes (b, a)" in summary
    # the rare class b gains, the common class a loses: size and gain are perfectly anti-correlated
    rho = next(c for c in rep["class_size_correlation"] if c["ratio"] == "1")
    assert rho["classes"] == 2  # too few classes for a rho; the row still says so
    for png in ("test_acc_vs_ratio.png", "test_macro_f1_vs_ratio.png", "per_class_gain_vs_size.png"):
        assert (folder / "plots" / png).stat().st_size > 1000


def test_resume_skips_finished_cells_and_retries_only_missing(setup):
    config, opts, count, _ = setup
    cfg = config()
    folder = run_ablation(opts(cfg), echo=lambda *_: None)
    assert count("train") == 12

    with pytest.raises(UserError, match="--resume"):
        run_ablation(opts(cfg), echo=lambda *_: None)

    run_ablation(opts(cfg, resume=True), echo=lambda *_: None)
    assert (count("train"), count("train-gan"), count("synth"), count("fid")) == (12, 1, 1, 1)

    (folder / "cells" / "mix-r1-none-scratch-s1.json").unlink()  # as if killed during that cell
    run_ablation(opts(cfg, resume=True), echo=lambda *_: None)
    assert count("train") == 13
    assert len(pd.read_csv(folder / "results.csv")) == 12

    changed = yaml.safe_load(open(cfg))
    changed["classifier"]["epochs"] = 5
    with open(cfg, "w") as f:
        yaml.safe_dump(changed, f)
    with pytest.raises(UserError, match="options differ"):
        run_ablation(opts(cfg, resume=True), echo=lambda *_: None)


def test_resume_runs_only_the_cells_a_grown_grid_adds(setup):
    config, opts, count, _ = setup
    cfg = config()
    folder = run_ablation(opts(cfg), echo=lambda *_: None)
    assert count("train") == 12  # 3 ratios x 3 seeds + 3 CAS

    grown = yaml.safe_load(open(cfg))
    grown["grid"]["ratios"] = [0, 0.5, 1, "balance"]
    grown["grid"]["seeds"] = [0, 1, 2, 3]
    with open(cfg, "w") as f:
        yaml.safe_dump(grown, f)
    with pytest.raises(UserError, match="options differ"):  # without --resume a changed grid is refused
        run_ablation(opts(cfg), echo=lambda *_: None)
    run_ablation(opts(cfg, resume=True), echo=lambda *_: None)
    # new: ratio 0.5 for seeds 0-2, every ratio for seed 3, one more CAS seed; nothing re-prepared
    assert count("train") == 12 + 3 + 4 + 1
    assert (count("train-gan"), count("synth")) == (1, 1)
    assert len(pd.read_csv(folder / "results.csv")) == 20

    grown["grid"]["ratios"] = [0, 0.5, 1, 2, "balance"]  # ratio 2 needs 16 synthetic per class; the folder has 8
    with open(cfg, "w") as f:
        yaml.safe_dump(grown, f)
    with pytest.raises(UserError, match=r"needs more synthetic images than it holds \(a: 8 of 16"):
        run_ablation(opts(cfg, resume=True), echo=lambda *_: None)
    assert count("train") == 20

    grown["grid"]["ratios"] = [0, 0.5, 1, "balance"]
    grown["grid"]["seeds"] = [0, 1, 3]  # a value dropped is not growth: refused even with --resume
    with open(cfg, "w") as f:
        yaml.safe_dump(grown, f)
    with pytest.raises(UserError, match="options differ.*seeds"):
        run_ablation(opts(cfg, resume=True), echo=lambda *_: None)
    assert count("train") == 20


def test_failing_cell_is_recorded_and_the_grid_goes_on(setup):
    config, opts, count, _ = setup
    folder = run_ablation(opts(config(augs=("heavy", "none"), cas={"aug": "none"})), echo=lambda *_: None)
    df = pd.read_csv(folder / "results.csv")
    bad = df[df.aug == "heavy"]
    assert len(bad) == 9 and set(bad["status"]) == {"failed"}
    assert all("RuntimeError: boom" in e for e in bad["error"])
    assert set(df.loc[df.aug == "none", "status"]) == {"ok"}
    assert "Failed cells" in (folder / "summary.md").read_text()

    before = count("train")  # --resume retries the failed cells (and only them)
    run_ablation(opts(config(augs=("heavy", "none"), cas={"aug": "none"}), resume=True), echo=lambda *_: None)
    assert count("train") - before == 9


def test_the_console_off_a_terminal_is_short_lines_a_person_reads(setup, capsys):
    """As a long job's log usually is (captured: not a terminal): one short line per job naming what tells it from
    the others, no progress line for work under a second, metrics at 4 significant digits."""
    import re

    config, opts, _, _ = setup
    lines: list[str] = []
    folder = run_ablation(opts(config(augs=("heavy", "none"), cas={"aug": "none"})), echo=lines.append)
    captured = capsys.readouterr()
    console = lines + captured.out.splitlines() + captured.err.splitlines()
    assert not [ln for ln in console if len(ln) > 200]
    bars = re.compile(r"\d+%\||\d+/\d+ \[|it/s|image/s|synth [ab]\b")
    assert not [ln for ln in console if bars.search(ln)]  # the fake synth's sub-second bars said nothing
    # each preparation job: one line with its few settings, not its whole options
    assert "  $ train-gan: steps=3 (all options: jobs/train-gan.json)" in console
    assert "  $ synth: all_classes=True n=8 (all options: jobs/synth.json)" in console
    assert "  $ fid: extractor=effnet-lite0 (all options: jobs/fid.json)" in console
    # each cell: its result with metrics at 4 significant digits; a failure with its cause and its log
    done = [ln for ln in console if re.match(r"\[ablate\] mix-r1-none-scratch-s2: ", ln)]
    assert done and re.search(r"test_acc=0\.672 test_macro_f1=0\.572 \(\d+ s\) \[\d+/\d+\]; ≈ \d+ s left",
                              done[0]), done
    assert any(re.match(r"\[ablate\] mix-r0-heavy-scratch-s0: FAILED \(RuntimeError: boom\); see "
                        r"logs/mix-r0-heavy-scratch-s0\.log", ln) for ln in console)
    # a cell's log opens with the options that differ between the grid's cells; its job file holds them all
    first = (folder / "logs" / "mix-r1-none-scratch-s2.log").read_text().splitlines()[0]
    assert first == ("$ train mix-r1-none-scratch-s2: data=train synth=synth ratio=1 aug=none seed=2 "
                     "(all options: jobs/mix-r1-none-scratch-s2.json)")
    assert json.loads((folder / "jobs" / "mix-r1-none-scratch-s2.json").read_text())["options"]["lr"] == 1e-3


def test_shards_into_one_folder_run_every_cell_once(setup):
    config, opts, count, calls = setup
    cfg = config()
    for i in range(3):
        run_ablation(opts(cfg, shard=f"{i}/3"), echo=lambda *_: None)
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    assert len(trains) == 12 and len(set(trains)) == 12
    assert count("train-gan") == 1  # the first shard prepared, the others reused it
    folder = next((calls.parent / "runs").glob("ablate-tiny"))
    assert len(pd.read_csv(folder / "results.csv")) == 12
    assert json.loads((folder / "summary.json").read_text())["verdict"] == "helped"


def test_dry_run_prints_typed_options_and_runs_nothing(setup):
    config, opts, count, _ = setup
    lines = []
    run_ablation(opts(config(), dry_run=True), echo=lines.append)
    assert len(lines) == 12 and count("train") == 0
    line = next(ln for ln in lines if ln.startswith("mix-r1-none-scratch-s2:"))
    shown = json.loads(line.split("TrainOptions ", 1)[1])
    assert shown["ratio"] == 1.0 and shown["seed"] == 2 and shown["batch_size"] == 4 and shown["synth"] == "<synth>"


def test_synth_count_covers_largest_ratio_balance_cas_and_filters(setup):
    from experiments.ablate import synth_per_class
    from experiments.config import load_config

    config, _, _, _ = setup
    counts = {"a": 10, "b": 2}
    assert synth_per_class(load_config(config(grid={"ratios": [0, 0.5], "seeds": [0, 1, 2]}, cas={"enabled": False})),
                           counts) == 5
    assert synth_per_class(load_config(config(grid={"ratios": [0, "balance"], "seeds": [0, 1, 2]},
                                              cas={"enabled": False})), counts) == 8
    assert synth_per_class(load_config(config(grid={"ratios": [0, 2], "seeds": [0, 1, 2]})), counts) == 20
    assert synth_per_class(load_config(config(grid={"ratios": [0, 2], "filter": [None, 0.5], "seeds": [0, 1, 2]})),
                           counts) == 40
    # a rank filter keeps a known share: top0.25 of 80 is the 20 ratio 2 draws (a threshold's share is unknown: 2x)
    assert synth_per_class(load_config(config(grid={"ratios": [0, 2], "filter": ["top0.25", "top0.5"],
                                                    "seeds": [0, 1, 2]})), counts) == 80


def test_config_refuses_unknown_and_owned_options_at_load(setup):
    from experiments.cells import load_ablation_config

    config, _, _, _ = setup
    with pytest.raises(UserError, match="classifier.options: unknown train option 'batchsize'"):
        load_ablation_config(config(classifier={"model": "test_resnet", "options": {"batchsize": 4}}))
    with pytest.raises(UserError, match="classifier.options: 'seed' is set by the ablation"):
        load_ablation_config(config(classifier={"model": "test_resnet", "options": {"seed": 4}}))
    with pytest.raises(UserError, match="gan.train: unknown train-gan option 'stepz'"):
        load_ablation_config(config(gan={"train": {"stepz": 3}}))
    with pytest.raises(UserError, match="classifier.model 'resnet_nope': not a timm model"):
        load_ablation_config(config(classifier={"model": "resnet_nope"}))
    with pytest.raises(UserError, match="--select 'f2'"):  # the part's own check, run at load
        load_ablation_config(config(classifier={"model": "test_resnet", "options": {"select": "f2"}}))
    with pytest.raises(UserError, match="grid.filter 'high'"):
        load_ablation_config(config(grid={"filter": ["none", "high"], "seeds": [0, 1, 2]}))
    with pytest.raises(UserError, match="classifier.options: stages '3:head:adamw:1e-3' should be a list"):
        load_ablation_config(config(classifier={"model": "test_resnet", "options": {"stages": "3:head:adamw:1e-3"}}))
    # what YAML users write and the parts accept: an empty section, 1e-3 (text to YAML), seeds as a range
    cfg = load_ablation_config(config(classifier={"model": "test_resnet", "options": None}, cas={"seeds": "0-2"}))
    assert cfg.classifier.options == {} and cfg.cas.seeds == [0, 1, 2]
    from experiments.cells import CellInputs, train_options
    from experiments.grid import build_cells

    cfg = load_ablation_config(config(classifier={"model": "test_resnet", "options": {"lr": "1e-3"}}))
    assert train_options(build_cells(cfg)[0], CellInputs("t", "v"), cfg, "runs").lr == 0.001
    # TensorBoard is on in every part unless a section turns it off
    from experiments.cells import gan_options

    assert train_options(build_cells(cfg)[0], CellInputs("t", "v"), cfg, "runs").tensorboard
    cfg = load_ablation_config(config(classifier={"model": "test_resnet", "options": {"tensorboard": False}},
                                      gan={"train": {"steps": 3, "tensorboard": False}}))
    assert not train_options(build_cells(cfg)[0], CellInputs("t", "v"), cfg, "runs").tensorboard
    assert not gan_options(cfg, "t", "runs").tensorboard


def test_cli_ablate_dry_run_and_user_errors(setup, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    config, _, _, _ = setup
    res = CliRunner().invoke(cli, ["ablate", "--config", config(), "--out", str(tmp_path / "r"), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "mix-r1-none-scratch-s0: TrainOptions" in res.output and '"ratio": 1.0' in res.output
    res = CliRunner().invoke(cli, ["ablate", "--config", config(), "--shard", "3/3", "--dry-run"])
    assert res.exit_code == 2 and "0 ≤ i < n" in res.output
    res = CliRunner().invoke(cli, ["ablate", "--config", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_real_parts_as_local_processes_with_a_filter_arm(tmp_path, monkeypatch):
    """No fakes: the GAN, its images, FID, the filter's classifier and one filtered cell, each a local submitit
    process running the part's own entry point from its serialized options."""
    from tests.clf.conftest import write_images

    write_images(tmp_path / "train", {"blue": 8, "red": 8}, seed=0, size=16)
    write_images(tmp_path / "test", {"blue": 3, "red": 3}, seed=1, size=16)
    cfg = {"name": "real", "data": {"train": str(tmp_path / "train"), "test": str(tmp_path / "test"), "val": 0.25},
           "gan": {"train": {"steps": 2, "size": 32, "batch": 4, "nz": 16, "ngf": 8, "ndf": 8, "snapshot_every": 2,
                             "judge_steps": 0, "progress": False}},
           "grid": {"ratios": [0, 1], "filter": ["none", 0.5], "augs": ["flip"], "seeds": [0, 1, 2]},
           "classifier": {"model": "test_resnet", "epochs": 1, "size": 16,
                          "options": {"batch_size": 4, "workers": 0, "progress": False}},
           "cas": {"enabled": False}, "fid": {"extractor": "effnet-lite0", "options": {"n": 16, "resize": 32}}}
    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.chdir(tmp_path)  # job processes must find the code wherever the user stands
    lines = []
    folder = run_ablation(AblateOptions(config=str(path), out=str(tmp_path / "runs"), shard="2/9", jobs=2),
                          echo=lines.append)
    df = pd.read_csv(folder / "results.csv", dtype={"ratio": str, "filter": str})
    assert list(df["cell_id"]) == ["mix-r1-f0.5-flip-scratch-s0"] and df["status"].tolist() == ["ok"], df.to_dict()
    assert df["arm"].tolist() == ["1@f0.5"] and 0 <= df["test_acc"].iloc[0] <= 1
    prepared = json.loads((folder / "prepared.json").read_text())
    kept = prepared["filter_kept"]["0.5"]
    assert set(kept) == {"blue", "red"} and all(0 <= k <= n == 16 for k, n in kept.values())
    assert (folder / "synth-f0.5" / "manifest.csv").exists() and prepared["fid"]["extractor"].startswith("effnet-lite0")
    run = json.loads(df["run_dir"].iloc[0]) if df["run_dir"].iloc[0].startswith('"') else df["run_dir"].iloc[0]
    counts = json.loads(open(f"{run}/metrics.json").read())["class_counts"]
    assert all(counts[c]["synthetic"] == min(counts[c]["real"], kept[c][0]) for c in counts)
    assert any("train-gan" in ln for ln in lines)  # the GAN's progress reached the console
    assert not [ln for ln in lines if len(ln) > 200]
    # `tensorboard --logdir` on the ablation folder finds the GAN's and every cell's curves
    assert list(Path(prepared["gan_run"]).glob("events.out.tfevents.*")) and list(Path(run).glob("events.out.*"))


def test_slurm_path_through_submitit_and_its_dry_run(setup, monkeypatch):
    import submitit

    config, opts, count, _ = setup
    lines = []
    run_ablation(opts(config(), executor="slurm", dry_run=True, partition="gpu", jobs=4), echo=lines.append)
    assert "slurm job array 'synthmix-tiny': 12 tasks" in lines[12]
    assert "slurm_partition=gpu" in lines[13] and "slurm_array_parallelism=4" in lines[13] and count("train") == 0

    with pytest.raises(UserError, match="--executor slurm: no sbatch on this machine"):
        run_ablation(opts(config(), executor="slurm"), echo=lambda *_: None)
    import shutil

    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **kw: "/usr/bin/sbatch" if name == "sbatch" else
                        which(name, *a, **kw))
    real_auto = submitit.AutoExecutor
    made = []

    def on_debug(folder, cluster=None, **kw):  # submitit's own debug cluster stands in for Slurm
        assert cluster == "slurm"
        made.append(real_auto(folder, cluster="debug", **kw))
        return made[-1]

    monkeypatch.setattr(submitit, "AutoExecutor", on_debug)
    cfg = config()
    lines = []
    folder = run_ablation(opts(cfg, executor="slurm", no_wait=True), echo=lines.append)
    assert made and count("train") == 0 and "12 cells submitted" in lines[-1]  # the preparation was waited for
    assert len(json.loads((folder / "submitted.json").read_text())) == 3 + 12  # train-gan, synth, fid + cells
    assert not (folder / "summary.json").exists()
    run_ablation(opts(cfg, executor="slurm", resume=True), echo=lambda *_: None)  # collects (here: reruns) them
    assert count("train") == 12 and count("train-gan") == 1
    assert json.loads((folder / "summary.json").read_text())["verdict"] == "helped"
    def refused(*a, **kw):
        raise RuntimeError("sbatch: error: invalid partition specified: gpu\n")

    monkeypatch.setattr(submitit, "AutoExecutor", lambda folder, cluster=None, **kw: type(
        "Refusing", (), {"update_parameters": lambda self, **p: None, "map_array": refused})())
    with pytest.raises(UserError, match="sbatch refused the job array: sbatch: error: invalid partition"):
        run_ablation(opts(config(), executor="slurm", partition="gpu", out=str(folder.parent.parent / "r2")),
                     echo=lambda *_: None)
    with pytest.raises(UserError, match="--no-wait needs --executor slurm"):
        run_ablation(opts(config(), no_wait=True), echo=lambda *_: None)


def test_a_filter_added_on_resume_is_prepared_and_only_its_cells_run(setup, monkeypatch):
    import pandas as pd

    from experiments import filtering

    def fake_scores(manifest, run, batch=256):  # every other image is confident
        df = pd.read_csv(manifest, dtype={"label": str}, keep_default_na=False)
        return df.assign(score=[0.9 if i % 2 else 0.3 for i in range(len(df))])

    monkeypatch.setattr(filtering, "score_pool", fake_scores)
    config, opts, count, calls = setup
    cfg = config()
    folder = run_ablation(opts(cfg), echo=lambda *_: None)
    assert count("train") == 12
    grown = yaml.safe_load(open(cfg))
    grown["grid"]["filter"] = ["none", 0.5]
    with open(cfg, "w") as f:
        yaml.safe_dump(grown, f)
    run_ablation(opts(cfg, resume=True), echo=lambda *_: None)
    # the filter's classifier once, then ratio 1 and balance at filter 0.5 for 3 seeds; nothing else again
    assert count("train") == 12 + 1 + 6 and count("synth") == 1
    prepared = json.loads((folder / "prepared.json").read_text())
    assert prepared["filter_kept"]["0.5"] == {"a": [4, 8], "b": [4, 8]}
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    assert sum("synth-f0.5" in ln for ln in trains) == 6
    df = pd.read_csv(folder / "results.csv", dtype={"arm": str})
    assert set(df["arm"]) == {"0", "1", "balance", "1@f0.5", "balance@f0.5", "synthetic-only"}
    assert "Filter ≥ 0.5: kept 8/16" in (folder / "summary.md").read_text()
    # 4 kept per class: ratio 1 asks 8 of class a, balance 6 of class b; the report says those arms fall short
    assert "Too few for ratio 1 (1 class), balance (1 class)" in (folder / "summary.md").read_text()


def test_remedy_axis_runs_real_only_remedies_and_compares_synthetic_with_the_best(setup):
    config, opts, count, calls = setup
    grid = {"ratios": [0, 1, "balance"], "remedy": ["none", "balanced_sampler", "class_weighted"], "augs": ["none"],
            "pretrained": [False], "seeds": [0, 1, 2]}
    folder = run_ablation(opts(config(grid=grid, cas={"enabled": False})), echo=lambda *_: None)
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    assert len(trains) == 15  # (real, sampler, weighted, ratio 1, balance) x 3 seeds
    sampler = [ln for ln in trains if "balanced_sampler=True" in ln]
    weighted = [ln for ln in trains if "class_weighted=True" in ln]
    assert len(sampler) == len(weighted) == 3  # each remedy on real images only, alone
    assert all("synth=None" in ln and "class_weighted=False" in ln for ln in sampler)
    assert all("synth=None" in ln and "balanced_sampler=False" in ln for ln in weighted)
    rep = json.loads((folder / "summary.json").read_text())
    # ratio 1's +.051 over real only would read "helped", but the sampler's +.08 beats every synthetic arm: the
    # verdict weighs synthetic images against the best real-data arm, ratio 1 (-.029) the least bad
    assert rep["verdict"] != "helped" and "ratio=1," in rep["verdict_line"]
    assert "paired vs the best real-data arm" in rep["verdict_line"] and "-0.0290" in rep["verdict_line"]
    vs = {r["ratio"]: r for r in rep["vs_best_remedy"]["test_acc"]}
    assert {r["against"] for r in vs.values()} == {"0+balanced_sampler"}  # the better remedy (+.08 vs +.01)
    assert vs["balance"]["mean_diff"] == pytest.approx(0.02 - 0.08) and vs["1"]["mean_diff"] == pytest.approx(-0.029)
    assert "Synthetic vs the best real-data remedy" in (folder / "summary.md").read_text()


def test_the_equal_cost_remedy_trains_real_only_twice_the_epochs_of_each_recipe(setup):
    config, opts, count, calls = setup
    grid = {"ratios": [0, 1], "remedy": ["none", "epochs_x2"], "augs": ["none"], "pretrained": [True, False],
            "seeds": [0, 1, 2]}
    clf = {"model": "test_resnet", "epochs": 3, "size": 16, "scratch": {"model": "test_resnet", "epochs": 5}}
    folder = run_ablation(opts(config(grid=grid, cas={"enabled": False}, classifier=clf)), echo=lambda *_: None)
    trains = [ln.split() for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    real = [dict(kv.split("=", 1) for kv in ln[1:]) for ln in trains if "synth=None" in ln]
    # real only and ratio 1 at the recipe's epochs (3 pretrained, 5 from scratch); the remedy at twice them, real only
    assert sorted(int(r["epochs"]) for r in real) == [3] * 3 + [5] * 3 + [6] * 3 + [10] * 3
    assert all(int(ln[-1].split("=")[1]) in (3, 5) for ln in trains if "synth=None" not in ln)
    df = pd.read_csv(folder / "results.csv", dtype={"arm": str})
    assert set(df["arm"]) == {"0", "0+epochs_x2", "1"}
    assert sorted(df.loc[df["arm"] == "0+epochs_x2", "epochs"]) == [6] * 3 + [10] * 3


def test_gan_seed_axis_trains_a_generator_per_seed_and_the_gain_must_survive_both(setup):
    from experiments.cells import load_ablation_config

    config, opts, count, calls = setup
    grid = {"ratios": [0, 1], "gan_seeds": [0, 1], "remedy": ["none", "balanced_sampler"], "augs": ["none"],
            "pretrained": [False], "seeds": [0, 1, 2]}
    folder = run_ablation(opts(config(grid=grid)), echo=lambda *_: None)
    gans = [ln for ln in calls.read_text().splitlines() if ln.startswith("train-gan")]
    assert len(gans) == 2 and {ln.split("seed=")[1].split()[0] for ln in gans} == {"0", "1"}
    assert all(f"gan-seed{ln.split('seed=')[1].split()[0]}" in ln for ln in gans)  # each in its own folder
    assert (count("synth"), count("fid"), count("train")) == (2, 2, 3 + 3 + 6 + 6)  # real, sampler, 1 & CAS per GAN
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ") and "ratio=1.0" in ln]
    assert sum("gan-seed0/synth" in ln for ln in trains) == sum("gan-seed1/synth" in ln for ln in trains) == 3
    rep = json.loads((folder / "summary.json").read_text())
    # generator 0's images add ~.05 over real only, generator 1's nothing; the sampler adds .08 to real only, and the
    # verdict weighs the synthetic arms against that best real-data arm: below it for both seeds
    assert rep["verdict"] == "hurt" and "per generator seed" in rep["verdict_line"]
    assert "paired vs the best real-data arm" in rep["verdict_line"]
    g0 = next(r for r in rep["paired"]["test_acc"] if r["ratio"] == "1/g0")
    assert g0["ci_lo"] > 0  # against real only it would have passed for this seed
    assert next(r for r in rep["paired"]["test_acc"] if r["ratio"] == "0+balanced_sampler")["ci_lo"] > 0
    assert set(rep["generators"]) == {"0", "1"}
    assert (rep["generators"]["0"]["fid"], rep["generators"]["1"]["fid"]) == (12.5, 13.5)  # each its own score
    assert {r["ratio"] for r in rep["paired"]["test_acc"]} == {"0+balanced_sampler", "1/g0", "1/g1"}
    # a seed in gan.train beside the axis, or an existing generator, is refused at load
    with pytest.raises(UserError, match="gan.train: seed is set by grid.gan_seeds"):
        load_ablation_config(config(grid=grid, gan={"train": {"steps": 3, "seed": 4}}))
    with pytest.raises(UserError, match="grid.gan_seeds: trains one generator per seed"):
        load_ablation_config(config(grid=grid, gan={"run": "somewhere"}))
    with pytest.raises(UserError, match="balanced_sampler is a grid.remedy arm"):
        load_ablation_config(config(grid={**grid, "remedy": ["none", "balanced_sampler"]},
                           classifier={"model": "test_resnet", "options": {"balanced_sampler": True}}))
    with pytest.raises(UserError, match="grid.remedy"):
        load_ablation_config(config(grid={**grid, "remedy": ["oversample"]}))
    with pytest.raises(UserError, match="grid.gan_seeds: empty"):
        load_ablation_config(config(grid={**grid, "gan_seeds": []}))


def test_remedies_and_a_generator_seed_added_on_resume_run_only_their_cells(setup):
    config, opts, count, calls = setup
    grid = {"ratios": [0, 1], "gan_seeds": [0], "augs": ["none"], "pretrained": [False], "seeds": [0, 1, 2]}
    folder = run_ablation(opts(config(grid=grid, cas={"enabled": False})), echo=lambda *_: None)
    assert (count("train-gan"), count("train")) == (1, 6)
    grown = {**grid, "gan_seeds": [0, 1], "remedy": ["none", "class_weighted"]}
    run_ablation(opts(config(grid=grown, cas={"enabled": False}), resume=True), echo=lambda *_: None)
    assert (count("train-gan"), count("train")) == (2, 6 + 3 + 3)  # the new generator's cells and the remedy's
    df = pd.read_csv(folder / "results.csv", dtype={"arm": str})
    assert sorted(set(df["arm"])) == ["0", "0+class_weighted", "1/g0", "1/g1"] and len(df) == 12


def test_synthetic_use_axes_reach_the_cells_and_the_report_ends_with_a_recommendation(setup, monkeypatch):
    import re

    from experiments import filtering

    def fake_scores(manifest, run, batch=256):  # image i of each class scores i / 100: its rank is its index
        df = pd.read_csv(manifest, dtype={"label": str}, keep_default_na=False)
        return df.assign(score=df.groupby("label").cumcount() / 100)

    monkeypatch.setattr(filtering, "score_pool", fake_scores)
    config, opts, count, calls = setup
    grid = {"ratios": [0, 1], "filter": ["none", "top0.5"], "weight": [1, 0.5], "real_last": [0, 1],
            "synth_remedy": ["none", "balanced_sampler"], "remedy": ["none", "class_weighted"], "augs": ["none"],
            "pretrained": [False], "seeds": [0, 1, 2]}
    lines: list[str] = []
    cfg = config(grid=grid, cas={"enabled": False}, classifier={"model": "test_resnet", "epochs": 2, "size": 16})
    folder = run_ablation(opts(cfg), echo=lines.append)
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    assert len(trains) == 1 + 3 * (2 + 16)  # the filter's classifier; (real, weighted, 2x2x2x2 synthetic) x 3
    synth = [ln for ln in trains if "ratio=1.0" in ln]
    assert sum("synth_weight=0.5" in ln for ln in synth) == sum("real_last=1" in ln for ln in synth) == 24
    assert sum("balanced_sampler=True" in ln for ln in synth) == 24 and sum("synth-ftop0.5" in ln for ln in synth) == 24
    assert all("class_weighted=False" in ln for ln in synth)
    prepared = json.loads((folder / "prepared.json").read_text())
    assert prepared["filter_kept"]["top0.5"] == {"a": [8, 16], "b": [8, 16]}  # half of each class's pool
    kept = pd.read_csv(folder / "synth-ftop0.5" / "manifest.csv")
    assert sorted(int(re.search(r"seed(\d+)", p).group(1)) for p in kept[kept["label"] == "a"]["path"]) == list(
        range(8, 16))  # the best-scored half
    df = pd.read_csv(folder / "results.csv", dtype={"arm": str})
    assert "1@ftop0.5:w0.5:rl1+balanced_sampler" in set(df["arm"]) and "0+class_weighted" in set(df["arm"])
    summary = (folder / "summary.md").read_text()
    rep = json.loads((folder / "summary.json").read_text())
    # the fake makes weight 0.5 with the balanced sampler best (+0.18 +-): recommended, with its gains and cost
    assert rep["recommendation"]["synthetic"] and ":w0.5" in rep["recommendation"]["arm"]
    assert "+balanced_sampler" in rep["recommendation"]["arm"]
    assert summary.rstrip().splitlines()[-3].startswith("**Recommendation (test_acc): use synthetic images — 1")
    assert "vs the best remedy (0+class_weighted)" in summary and "Filter top 0.5 per class: kept 16/32" in summary
    assert lines[-len(rep["recommendation"]["lines"]):][0].startswith("[ablate] Recommendation (test_acc): use")
    assert lines[-1].startswith("[ablate]   cost: train-gan + synth + filter-clf ")


def test_reuse_runs_only_what_a_variant_config_adds_and_refuses_another_preparation(setup, tmp_path):
    config, opts, count, calls = setup
    base = config(cas={"enabled": False})
    src = run_ablation(opts(base), echo=lambda *_: None)
    assert (count("train-gan"), count("synth"), count("train")) == (1, 1, 9)

    variant = yaml.safe_load(open(base))
    variant["name"] = "tiny_weight"
    variant["grid"]["weight"] = [1, 0.5]       # one more arm
    variant["grid"]["ratios"] = [0, 1]         # and one left out: a variant, not a grown grid
    variant["metric"] = "test_macro_f1"
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(variant))
    lines: list[str] = []
    folder = run_ablation(opts(str(path), reuse=str(src)), echo=lines.append)
    # nothing prepared again; only ratio 1 at weight 0.5 (3 seeds) trained; the other 6 cells taken over
    assert (count("train-gan"), count("synth"), count("train")) == (1, 1, 12)
    assert any("reusing" in ln and "6 of this grid's 9 cells" in ln for ln in lines)
    df = pd.read_csv(folder / "results.csv", dtype={"arm": str})
    assert len(df) == 9 and set(df["arm"]) == {"0", "1", "1:w0.5"} and set(df["status"]) == {"ok"}
    same = df[df["arm"] == "1"].sort_values("seed")["test_acc"].tolist()
    theirs = pd.read_csv(src / "results.csv", dtype={"arm": str})
    assert same == theirs[theirs["arm"] == "1"].sort_values("seed")["test_acc"].tolist()
    assert json.loads((folder / "prepared.json").read_text()) == json.loads((src / "prepared.json").read_text())
    assert "train-gan" in (folder / "summary.md").read_text()  # the GAN's cost reaches the recommendation

    # the same command again (another shard, or after a crash) goes on: nothing taken twice, nothing retrained
    run_ablation(opts(str(path), reuse=str(src)), echo=lambda *_: None)
    run_ablation(opts(str(path), resume=True), echo=lambda *_: None)
    assert count("train") == 12
    other_src = run_ablation(opts(base, out=str(tmp_path / "runs2")), echo=lambda *_: None)
    with pytest.raises(UserError, match="holds other work already; use --resume"):
        run_ablation(opts(str(path), reuse=str(other_src)), echo=lambda *_: None)
    assert count("train") == 12 + 9

    seeded = dict(variant, name="tiny_seeded", grid={**variant["grid"], "gan_seeds": [0, 1]})
    (tmp_path / "seeded.yaml").write_text(yaml.safe_dump(seeded))
    with pytest.raises(UserError, match="one generator there, a grid.gan_seeds axis here"):
        run_ablation(opts(str(tmp_path / "seeded.yaml"), reuse=str(src)), echo=lambda *_: None)
    src.rename(tmp_path / "moved")  # the variant reads the source's images: without it, one clear line
    with pytest.raises(UserError, match=r"was started with --reuse .*which is gone"):
        run_ablation(opts(str(path), resume=True), echo=lambda *_: None)
    (tmp_path / "moved").rename(src)

    other = dict(variant, name="tiny_other", classifier={**variant["classifier"], "epochs": 2})
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    with pytest.raises(UserError, match=r"cannot reuse .*classifier.epochs: run has 1, now 2"):
        run_ablation(opts(str(tmp_path / "other.yaml"), reuse=str(src)), echo=lambda *_: None)
    with pytest.raises(UserError, match="not a prepared ablation folder"):
        run_ablation(opts(str(path), reuse=str(tmp_path)), echo=lambda *_: None)
    assert not (tmp_path / "runs" / "ablate-tiny_other").exists()  # refused before any folder


def test_reuse_refuses_filters_scored_by_another_classifier_recipe(setup, monkeypatch, tmp_path):
    from experiments import filtering

    monkeypatch.setattr(filtering, "score_pool", lambda manifest, run, batch=256: pd.read_csv(
        manifest, dtype={"label": str}, keep_default_na=False).assign(score=0.9))
    config, opts, count, _ = setup
    grid = {"ratios": [0, 1], "filter": ["none", 0.5], "augs": ["none", "basic"], "pretrained": [False], "seeds": [0, 1, 2]}
    src = run_ablation(opts(config(grid=grid, cas={"enabled": False})), echo=lambda *_: None)
    variant = yaml.safe_load(open(config(grid={**grid, "augs": ["basic", "none"]}, cas={"enabled": False})))
    variant["name"] = "tiny_reordered"  # the filter's classifier is trained with the first preset: now another one
    (tmp_path / "reordered.yaml").write_text(yaml.safe_dump(variant))
    with pytest.raises(UserError, match="scored by a classifier with another recipe"):
        run_ablation(opts(str(tmp_path / "reordered.yaml"), reuse=str(src)), echo=lambda *_: None)
    variant["grid"]["filter"] = ["none"]  # no filtered arm here: the classifier does not matter
    (tmp_path / "reordered.yaml").write_text(yaml.safe_dump(variant))
    trained = count("train")
    run_ablation(opts(str(tmp_path / "reordered.yaml"), reuse=str(src)), echo=lambda *_: None)
    assert count("train") == trained  # all 12 cells (2 ratios x 2 presets x 3 seeds) taken over


def test_reuse_of_a_real_only_grid_takes_its_cells_into_a_grid_with_generator_seeds(setup, tmp_path):
    config, opts, count, _ = setup
    base = {"ratios": [0], "augs": ["none"], "pretrained": [False], "seeds": [0, 1, 2]}
    src = run_ablation(opts(config(grid=base, cas={"enabled": False})), echo=lambda *_: None)
    assert (count("train-gan"), count("train")) == (0, 3)  # real data only: no generator there
    seeded = yaml.safe_load(open(config(grid={**base, "ratios": [0, 1], "gan_seeds": [0, 1]}, cas={"enabled": False})))
    seeded["name"] = "tiny_seeded"
    (tmp_path / "seeded.yaml").write_text(yaml.safe_dump(seeded))
    lines: list[str] = []
    folder = run_ablation(opts(str(tmp_path / "seeded.yaml"), reuse=str(src)), echo=lines.append)
    # the three real-only cells taken over; one generator per seed trained here, and only the synthetic cells run
    assert any("3 of this grid's 9 cells" in ln for ln in lines)
    assert (count("train-gan"), count("train")) == (2, 3 + 6)
    assert set(json.loads((folder / "prepared.json").read_text())["gans"]) == {"0", "1"}


def test_a_reference_set_reaches_synth_and_a_missing_one_is_refused(setup, make_folder, tmp_path):
    config, opts, count, calls = setup
    ref = make_folder({"a": 3, "b": 3}, root=tmp_path / "reference")
    base = yaml.safe_load(open(config(grid={"ratios": [0, 1], "augs": ["none"], "pretrained": [False],
                                            "seeds": [0, 1, 2]}, cas={"enabled": False})))
    base["data"]["reference"] = str(ref)
    (tmp_path / "ref.yaml").write_text(yaml.safe_dump(base))
    run_ablation(opts(str(tmp_path / "ref.yaml")), echo=lambda *_: None)
    assert f"reference={ref}" in next(ln for ln in calls.read_text().splitlines() if ln.startswith("synth"))
    base["data"]["reference"] = str(tmp_path / "nope")
    base["name"] = "tiny_noref"
    (tmp_path / "noref.yaml").write_text(yaml.safe_dump(base))
    with pytest.raises(UserError, match="config data.reference: .*nope not found"):
        run_ablation(opts(str(tmp_path / "noref.yaml")), echo=lambda *_: None)
