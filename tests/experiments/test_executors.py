"""Local jobs as processes: side by side they share the cores, and they stop when ablate is stopped, also when it
was started in the background (nohup, `&`), where SIGINT, submitit's stop signal, is ignored."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import write_image

REPO = Path(__file__).resolve().parents[2]
DRIVER = '''
import signal, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a background start leaves a process with
from common.atomic import exit_on_sigterm
exit_on_sigterm()
from augment.spec import DataSpec
from clf.options import TrainOptions
from experiments.executors import ExecOptions, run_jobs
from experiments.jobs import Job, write_job
folder = Path(sys.argv[1])
opts = TrainOptions(data=DataSpec(sys.argv[2]), out=str(folder / "runs"), model="test_resnet", size=16,
                    epochs=100000, batch_size=4, workers=0, progress=False, warmup_epochs=0, tensorboard=False)
files = [write_job(Job(f"long{{i}}", "train", opts, str(folder / "logs" / f"long{{i}}.log")), folder) for i in range(2)]
run_jobs(files, folder, ExecOptions(kind="local", jobs=2))
'''


def _jobs(folder: Path) -> list[int]:
    """The job processes (submitit's task runners) working for `folder`."""
    out = []
    for p in Path("/proc").iterdir():
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if "submitit.core._submit" in cmd and str(folder) in cmd:
            out.append(int(p.name))
    return out


def test_background_ablate_jobs_share_the_cores_and_stop_with_it(tmp_path):
    for c in ("a", "b"):
        for i in range(6):
            write_image(tmp_path / "data" / c / f"{i}.png", size=(16, 16), seed=i + 10 * (c == "b"))
    folder = tmp_path / "ablation"
    (tmp_path / "drive.py").write_text(DRIVER.format(repo=str(REPO)))
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    driver = subprocess.Popen([sys.executable, str(tmp_path / "drive.py"), str(folder), str(tmp_path / "data")],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while len(_jobs(folder)) < 2 and time.time() < deadline:
            time.sleep(0.5)
        pids = _jobs(folder)
        assert len(pids) == 2, "the two jobs did not start"
        environ = (Path("/proc") / str(pids[0]) / "environ").read_bytes().split(b"\0")
        assert f"OMP_NUM_THREADS={max(1, (os.cpu_count() or 1) // 2)}".encode() in environ  # the cores split
        driver.send_signal(signal.SIGTERM)  # `kill PID` of the ablate process
        driver.wait(timeout=30)
        deadline = time.time() + 20
        while _jobs(folder) and time.time() < deadline:
            time.sleep(0.5)
        assert not _jobs(folder), "the jobs outlived the stopped ablate"
    finally:
        driver.kill()
        for pid in _jobs(folder):
            os.kill(pid, signal.SIGKILL)
