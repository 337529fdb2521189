"""The ablation runner end to end on a tiny grid, with a FAKE cli (train / train-gan / synth / fid) in tmp_path.

The fake prints a deterministic SYNTHMIX_RESULT line and counts its invocations, so these tests check the runner,
resume, shards and report, not the classifier.
"""
from __future__ import annotations

import json
import sys
import textwrap

import pandas as pd
import pytest
import yaml

from common.errors import UserError
from experiments.ablate import AblateOptions, run_ablation, synth_per_class
from experiments.runner import parse_result, passthrough_args

FAKE = r'''
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
cmd, rest = args[0], args[1:]
opt = lambda k, d=None: rest[rest.index(k) + 1] if k in rest else d
with open(os.environ["FAKE_CALLS"], "a") as f:
    f.write(cmd + " " + " ".join(rest) + "\n")
if cmd == "train-gan":
    Path(opt("--out"), "00000-fakegan").mkdir(parents=True)
elif cmd == "synth":
    out = Path(opt("--out")); out.mkdir(parents=True)
    n = int(opt("--n"))
    rows = "".join(f"{c}/seed{i:04d}.png,{c},,synthetic\n" for c in ("a", "b") for i in range(n))
    (out / "manifest.csv").write_text("path,label,category,source\n" + rows)
elif cmd == "fid":
    Path(opt("--out")).write_text(json.dumps({"fid": 12.5, "kid": 0.01, "extractor": "fake", "n_real": 5}))
elif cmd == "train":
    aug, seed = opt("--aug"), int(opt("--seed"))
    if aug == "heavy":  # a real preset, so the config is valid; the fake trainer fails its cells
        print("Traceback: boom", file=sys.stderr); sys.exit(1)
    ratio = "balance" if "--balance" in rest else opt("--ratio", "0")
    synth_only = opt("--data").endswith("manifest.csv")
    # baseline .60 + .01*seed; ratio 1 adds .05 + .001*seed; balance adds .02; rare class b gains most
    bonus = {"0": 0.0, "1": 0.05 + 0.001 * seed, "balance": 0.02}[ratio]
    acc = 0.30 if synth_only else 0.60 + 0.01 * seed + bonus
    print("epoch 1 ...")
    print("SYNTHMIX_RESULT " + json.dumps({"best_epoch": 1, "val_acc": acc, "val_macro_f1": acc, "test_acc": acc,
          "test_macro_f1": acc - 0.1, "test_per_class_f1": {"a": acc - bonus / 2, "b": acc + bonus},
          "run_dir": opt("--out") + "/00000-x"}))
'''


@pytest.fixture
def setup(tmp_path, make_folder, monkeypatch):
    fake = tmp_path / "fake_cli.py"
    fake.write_text(FAKE)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    train = make_folder({"a": 8, "b": 2}, root=tmp_path / "train")
    test = make_folder({"a": 2, "b": 2}, root=tmp_path / "test")

    def config(augs=("none",), **extra):
        cfg = {"name": "tiny", "data": {"train": str(train), "test": str(test), "val": 0.5},
               "gan": {"train": {"steps": 3, "size": 16}},
               "grid": {"ratios": [0, 1, "balance"], "augs": list(augs), "pretrained": [False], "seeds": [0, 1, 2]},
               "classifier": {"model": "test_resnet", "epochs": 1, "size": 16, "train_args": {"batch-size": 4}},
               "fid": {"extractor": "effnet-lite0"}, **extra}
        path = tmp_path / f"cfg-{len(list(tmp_path.glob('cfg-*')))}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return str(path)

    def opts(cfg, **kw):
        return AblateOptions(config=cfg, out=str(tmp_path / "runs"), train_cmd=(sys.executable, str(fake), "train"),
                             cli_cmd=(sys.executable, str(fake)), **kw)

    def count(cmd):
        return sum(1 for ln in calls.read_text().splitlines() if ln.split()[0] == cmd) if calls.exists() else 0

    return config, opts, count, calls


def test_tiny_grid_end_to_end(setup):
    config, opts, count, calls = setup
    folder = run_ablation(opts(config()), echo=lambda *_: None)

    # Generator trained once, images drawn once, scored once; 3 ratios x 3 seeds + 3 CAS cells.
    assert (count("train-gan"), count("synth"), count("fid"), count("train")) == (1, 1, 1, 12)
    synth_call = next(ln for ln in calls.read_text().splitlines() if ln.startswith("synth"))
    assert "--n 8" in synth_call  # ratio 1 x largest class (8) >= balance (6) and CAS (8)

    df = pd.read_csv(folder / "results.csv", dtype={"ratio": str})
    assert len(df) == 12 and set(df["status"]) == {"ok"}
    assert set(df.loc[df.kind == "mix", "ratio"]) == {"0", "1", "balance"}
    r = df[(df.ratio == "1") & (df.seed == 2)].iloc[0]
    assert r["test_acc"] == pytest.approx(0.60 + 0.02 + 0.05 + 0.002)
    assert json.loads(r["test_per_class_f1"])["b"] == pytest.approx(r["test_acc"] + 0.052)

    # The train command got the mapped flags: ratio / balance / none, CAS on the synthetic manifest only.
    trains = [ln for ln in calls.read_text().splitlines() if ln.startswith("train ")]
    assert sum("--ratio 1" in ln for ln in trains) == 3 and sum("--balance" in ln for ln in trains) == 3
    assert sum("--synth" not in ln and "manifest.csv" not in ln for ln in trains) == 3
    cas = [ln for ln in trains if "manifest.csv" in ln]
    assert len(cas) == 3 and all("--test-data" in ln and "--batch-size 4" in ln for ln in cas)

    summary = (folder / "summary.md").read_text()
    rep = json.loads((folder / "summary.json").read_text())
    # ratio 1 vs 0: d = .050 .051 .052 -> mean .051, CI excludes 0 -> helped
    assert rep["verdict"] == "helped"
    assert "HELPED" in summary and "ratio=1" in rep["verdict_line"]
    p1 = next(p for p in rep["paired"]["test_acc"] if p["ratio"] == "1")
    assert p1["mean_diff"] == pytest.approx(0.051) and p1["n_pairs"] == 3
    assert rep["fid"]["fid"] == 12.5 and rep["fid"]["kid"] == 0.01
    assert next(c for c in rep["cas"] if c["metric"] == "test_acc")["mean"] == pytest.approx(0.30)
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
    with pytest.raises(UserError, match="needs 16 synthetic images per class"):
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
    assert all("boom" in e for e in bad["error"])
    assert set(df.loc[df.aug == "none", "status"]) == {"ok"}
    assert "Failed cells" in (folder / "summary.md").read_text()

    before = count("train")  # --resume retries the failed cells (and only them)
    run_ablation(opts(config(augs=("heavy", "none"), cas={"aug": "none"}), resume=True), echo=lambda *_: None)
    assert count("train") - before == 9


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


def test_dry_run_prints_commands_and_runs_nothing(setup, capsys):
    config, opts, count, _ = setup
    lines = []
    run_ablation(opts(config(), dry_run=True), echo=lines.append)
    assert len(lines) == 12 and count("train") == 0
    assert any("--ratio 1" in ln and "--seed 2" in ln for ln in lines)


def test_result_line_parsing_and_passthrough():
    out = "noise\nSYNTHMIX_RESULT {\"test_acc\": 0.5}\nSYNTHMIX_RESULT {\"test_acc\": 0.7}\n"
    assert parse_result(out) == {"test_acc": 0.7}
    assert parse_result("no result here") is None
    assert passthrough_args({"lr": 0.01, "balanced-sampler": True, "mixup": False, "--opt": "sgd"}) == \
        ["--lr", "0.01", "--balanced-sampler", "--opt", "sgd"]
    assert passthrough_args(["--lr", 0.1]) == ["--lr", "0.1"]


def test_synth_count_covers_largest_ratio_balance_and_cas():
    assert synth_per_class(["0", "0.5"], {"a": 10, "b": 2}, cas=False) == 5
    assert synth_per_class(["0", "balance"], {"a": 10, "b": 2}, cas=False) == 8
    assert synth_per_class(["0", "2"], {"a": 10, "b": 2}, cas=True) == 20


def test_cli_ablate_dry_run_and_user_errors(setup, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    config, _, _, _ = setup
    res = CliRunner().invoke(cli, ["ablate", "--config", config(), "--out", str(tmp_path / "r"), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "mix-r1-none-scratch-s0:" in res.output and "--ratio 1" in res.output
    res = CliRunner().invoke(cli, ["ablate", "--config", config(), "--shard", "3/3", "--dry-run"])
    assert res.exit_code == 2 and "0 ≤ i < n" in res.output
    res = CliRunner().invoke(cli, ["ablate", "--config", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "no such file" in res.output
