"""train-gan under DDP without a GPU: 2 gloo processes on the CPU, launched by Fabric as a user launches them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from gen.checkpoint import load_checkpoint
from gen.train import train_gan

CLI = str(Path(__file__).resolve().parents[2] / "cli.py")
TINY = ["--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "4", "--log-every", "1", "--snapshot-every", "3",
        "--judge-steps", "5"]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, CLI, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def _steps(run: Path) -> list[int]:
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    return [r["step"] for r in rows if "loss_d" in r]


def test_two_cpu_processes_train_one_run_that_loads_and_resumes_in_one_process(gan_data, tiny_opts, tmp_path):
    data = gan_data({"cat": 8, "dog": 8})
    r = _cli(tmp_path, "train-gan", "--data", str(data), "--out", "runs", "--steps", "3", "--devices", "2", *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in r.stderr  # the second process really joined
    assert r.stdout.count("wrote ") == 1  # rank 0 alone reports ...
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1  # ... and writes: one run folder, each step logged once
    run = runs[0]
    assert _steps(run) == [1, 2, 3]
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["options"]["devices"] == 2

    # Rank 1's batches entered the averaged gradients: the weights differ from one process on the same seed.
    alone = train_gan(tiny_opts(data, steps=3, snapshot_every=3, out=str(tmp_path / "alone")))
    ddp_d = load_checkpoint(run / "last.pt")["models"][0]["D"]
    one_d = load_checkpoint(alone / "last.pt")["models"][0]["D"]
    assert any(not torch.equal(ddp_d[k], one_d[k]) for k in one_d)

    # The checkpoint loads in one process, and the run resumes under DDP without repeating a step.
    s = _cli(tmp_path, "synth", "--gan", str(run), "--all", "--n", "2", "--out", "synth")
    assert s.returncode == 0, s.stderr[-2000:]
    assert len(list((tmp_path / "synth").glob("*/*.png"))) == 4
    r2 = _cli(tmp_path, "train-gan", "--data", str(data), "--out", "runs", "--steps", "5", "--devices", "2",
              "--resume", str(run), *TINY)
    assert r2.returncode == 0, r2.stderr[-2000:]
    assert _steps(run) == [1, 2, 3, 4, 5]
    assert load_checkpoint(run / "last.pt")["step"] == 5
