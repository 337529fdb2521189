"""train under Lightning DDP without a GPU: 2 gloo processes on the CPU, killed mid-run and resumed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

CLI = str(Path(__file__).resolve().parents[2] / "cli.py")
EPOCHS = 25


def _train(cwd: Path, data: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    args = [sys.executable, CLI, "train", "--data", str(data), "--model", "test_resnet", "--size", "24",
            "--epochs", str(EPOCHS), "--batch-size", "4", "--lr", "1e-2", "--warmup-epochs", "0", "--workers", "0",
            "--aug", "flip", "--no-progress", "--devices", "2", "--out", "runs", *extra]
    # A session of its own: the kill below takes the launcher's second process too, as a Ctrl-C would.
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_two_cpu_processes_train_and_a_killed_run_resumes(toy, tmp_path):
    from clf.checkpoint import load_trained

    p = _train(tmp_path, toy["train"])
    deadline = time.time() + 240
    metrics = None
    while time.time() < deadline and p.poll() is None:
        found = list((tmp_path / "runs").glob("*/metrics.csv"))
        if found and len(pd.read_csv(found[0])) >= 2 and (found[0].parent / "last.pt").is_file():
            metrics = found[0]
            break
        time.sleep(0.05)
    assert p.poll() is None, "the run ended before it could be killed: " + p.communicate()[1][-2000:]
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    run = metrics.parent
    assert len(pd.read_csv(metrics)) < EPOCHS

    r = _train(tmp_path, toy["train"], "--resume", str(run))
    out, err = r.communicate(timeout=300)
    assert r.returncode == 0, err[-2000:]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in err
    assert out.count("wrote ") == 1  # rank 0 alone reports
    assert len(list((tmp_path / "runs").iterdir())) == 1
    hist = pd.read_csv(run / "metrics.csv")
    assert hist["epoch"].tolist() == list(range(EPOCHS))  # every epoch once, across the kill
    # Both ranks trained: their shares of each epoch add up to the whole training split (DistributedSampler
    # pads an odd split by one image so the ranks get equal shares).
    counts = json.loads((run / "config.json").read_text())["class_counts"].values()
    n_train = sum(c["real"] + c["synthetic"] for c in counts)
    assert (hist["train_images"] == n_train + n_train % 2).all()
    assert json.loads((run / "metrics.json").read_text())["val_acc"] >= 0.5  # it learned (3 classes)

    trained = load_trained(run, "best")  # one process, no DDP
    with torch.no_grad():
        assert trained.model(torch.zeros(2, 3, 24, 24)).shape == (2, 3)
