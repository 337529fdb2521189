"""Where jobs run: submitit's executors, not a home-made pool.

- local: each job a subprocess on this machine (submitit's LocalExecutor), at most `jobs` at a time; on a GPU
  machine each job gets a GPU no other running job holds.
- slurm: one Slurm job array (submitit's SlurmExecutor): partition, time limit, GPUs/CPUs per cell, array
  parallelism; `wait=False` returns after submitting, and a later `ablate --resume` collects the records.
- debug: submitit's DebugExecutor, in this process (tests, pdb).
"""
from __future__ import annotations

import json
import math
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from common.errors import UserError
from experiments.config import REPO_ROOT, SlurmConfig
from experiments.jobs import LINE_WIDTH, result_path, run_job

EXECUTORS = ("local", "slurm", "debug")
NO_LIMIT_MIN = 60 * 24 * 7  # submitit's local executor kills a job after 2 minutes unless told otherwise


@dataclass
class ExecOptions:
    """How the ablation's jobs run."""

    kind: str = "local"
    jobs: int | None = None               # at most this many at once: local (default 1), the Slurm array's
    wait: bool = True                     # slurm only: False returns once the array is submitted
    time_min: int | None = None           # slurm: per task, over the config's time_min and the cell timeout
    slurm: SlurmConfig = field(default_factory=SlurmConfig)

    def check(self, submitting: bool = True) -> None:
        """Refuse impossible settings in one line, before any folder is made."""
        import shutil

        if self.kind not in EXECUTORS:
            raise UserError(f"--executor {self.kind!r}: choose {', '.join(EXECUTORS)}")
        if self.jobs is not None and self.jobs < 1:
            raise UserError(f"--jobs {self.jobs}: must be at least 1")
        if not self.wait and self.kind != "slurm":
            raise UserError("--no-wait needs --executor slurm (local jobs are stopped when this command ends)")
        s = self.slurm
        for name, value, least in (("--time-min", self.time_min, 1), ("slurm.time_min", s.time_min, 1),
                                   ("--gpus-per-cell", s.gpus_per_cell, 0), ("--cpus-per-cell", s.cpus_per_cell, 1),
                                   ("slurm.array_parallelism", s.array_parallelism, 1), ("slurm.mem_gb", s.mem_gb, 1)):
            if value is not None and value < least:
                raise UserError(f"{name} {value}: must be at least {least}")
        if self.kind == "slurm" and submitting and shutil.which("sbatch") is None:
            raise UserError("--executor slurm: no sbatch on this machine; run it on the cluster's login node "
                            "(--dry-run shows the array it would submit)")


def slurm_parameters(ex: ExecOptions, timeout_s: float | None, name: str) -> dict:
    """submitit's AutoExecutor parameters for one array; --time-min wins, then the cell timeout, then the config."""
    s = ex.slurm
    minutes = ex.time_min or (math.ceil(timeout_s / 60) if timeout_s else s.time_min)
    params = {"timeout_min": minutes, "gpus_per_node": s.gpus_per_cell, "cpus_per_task": s.cpus_per_cell,
              "tasks_per_node": 1, "nodes": 1, "name": name,
              "slurm_array_parallelism": ex.jobs or s.array_parallelism}
    if s.partition:
        params["slurm_partition"] = s.partition
    if s.mem_gb:
        params["mem_gb"] = s.mem_gb
    params.update({k if k.startswith("slurm_") else f"slurm_{k}": v for k, v in s.extra.items()})
    return params


def describe_slurm(job_files: list[Path], ex: ExecOptions, timeout_s: float | None, name: str) -> list[str]:
    """What a slurm submission would be (for --dry-run): array size, resources, the first jobs."""
    lines = [f"slurm job array '{name}': {len(job_files)} tasks",
             "resources per task: " + ", ".join(f"{k}={v}" for k, v in slurm_parameters(ex, timeout_s, name).items())]
    for f in job_files[:3]:
        spec = json.loads(Path(f).read_text(encoding="utf-8"))
        o = spec["options"]
        brief = {k: o.get(k) for k in ("model", "ratio", "balance", "aug", "seed", "synth") if o.get(k) is not None}
        lines.append(f"  {spec['name']}: {spec['command']} {json.dumps(brief)}")
    if len(job_files) > 3:
        lines.append(f"  ... and {len(job_files) - 3} more (jobs/*.json)")
    return lines


def run_jobs(job_files: list[Path], folder: Path, ex: ExecOptions, timeout_s: float | None = None,
             echo: Callable[[str], None] = print, follow: bool = False, name: str = "synthmix",
             on_result: Callable[[dict], None] | None = None) -> list[dict] | None:
    """Run the jobs; return their results in order (None when slurm was told not to wait).

    `follow` echoes each running job's log lines as they come (the console's progress for a long job; the debug
    executor runs in this process, so it echoes a job's lines when the job ends); `on_result` sees every result as
    it arrives.
    """
    import submitit

    ex.check(submitting=False)
    if not job_files:
        return []
    _importable_from_anywhere()
    sub = Path(folder) / "submitit"
    if ex.kind == "debug":
        executor = submitit.DebugExecutor(folder=sub)
        results, positions = [], {}
        for f in job_files:
            results.append(executor.submit(run_job, str(f)).result())
            if follow:  # in this process: the log is echoed once the job is done, as the local executor would
                _echo_new_lines(f, positions, echo)
            if on_result:
                on_result(results[-1])
        return results
    if ex.kind == "slurm":
        ex.check(submitting=True)
        executor = submitit.AutoExecutor(folder=sub, cluster="slurm")
        executor.update_parameters(**slurm_parameters(ex, timeout_s, name))
        try:
            jobs = executor.map_array(run_job, [str(f) for f in job_files])
        except Exception as e:  # sbatch refused the array (partition, account, QoS, time limit)
            said = [ln for ln in str(e).splitlines() if ln.strip()]
            raise UserError(f"sbatch refused the job array: {said[-1] if said else type(e).__name__}; check "
                            "--partition, --time-min, --gpus-per-cell/--cpus-per-cell and slurm.extra") from None
        _record_submitted(folder, job_files, [j.job_id for j in jobs])
        echo(f"[ablate] submitted {len(jobs)} Slurm tasks (array {jobs[0].job_id.split('_')[0]}); "
             + ("waiting" if ex.wait else "collect them later with --resume"))
        if not ex.wait:
            return None
        return _collect(list(zip(job_files, jobs)), {}, echo, follow, on_result)
    return _run_local(job_files, sub, ex, timeout_s, echo, follow, on_result)


def _run_local(job_files, sub: Path, ex: ExecOptions, timeout_s, echo, follow, on_result) -> list[dict]:
    import signal

    import submitit
    import torch

    from common.device import threads_per_process

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started in the background (nohup, `&` in a script), this process ignores SIGINT and its children would
        # inherit that: submitit stops a local job with SIGINT, so the jobs would outlive a stopped ablate.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    executor = submitit.LocalExecutor(folder=sub)
    free_gpus = _visible_gpus(torch.cuda.device_count())
    minutes = math.ceil(timeout_s / 60) if timeout_s else NO_LIMIT_MIN
    # Jobs side by side on the CPU share its cores: each torch process would otherwise take them all, and two such
    # jobs on 2 cores took 3.6x as long per epoch as two of one thread each (52-56 s against 14.5 s, Lite0 at 64 px,
    # BENCHMARKS.md issue 32). Passed in the environment the jobs inherit (a setup line would put a shell between
    # submitit's SIGINT and the job); a thread count the user set is theirs.
    shared = not free_gpus and "OMP_NUM_THREADS" not in os.environ
    if shared:
        os.environ["OMP_NUM_THREADS"] = str(threads_per_process(min(ex.jobs or 1, len(job_files))))
    pending, running, done, positions = list(enumerate(job_files)), [], {}, {}
    try:
        while pending or running:
            while pending and len(running) < (ex.jobs or 1) and (free_gpus or not _gpus_in_use(running)):
                k, f = pending.pop(0)
                gpu = free_gpus.pop(0) if free_gpus else None
                # submitit blanks CUDA_VISIBLE_DEVICES for a job that asks no GPU; its setup line runs after that,
                # so the job sees exactly its one GPU, by whatever id this process was given (index, UUID, MIG)
                executor.update_parameters(timeout_min=minutes,
                                           setup=[f"export CUDA_VISIBLE_DEVICES={shlex.quote(gpu)}"] if gpu else [])
                running.append((k, f, executor.submit(run_job, str(f)), gpu))
            finished = _collect([(f, j) for _, f, j, _ in running], positions, echo, follow, on_result,
                                poll_once=True)
            for entry, res in zip(list(running), finished):
                if res is not None:
                    done[entry[0]] = res
                    running.remove(entry)
                    if entry[3] is not None:
                        free_gpus.append(entry[3])
    finally:
        for _, _, job, _ in running:  # stopped (Ctrl-C, an error): the jobs stop too, not run on unseen
            job.cancel(check=False)
        if shared:
            del os.environ["OMP_NUM_THREADS"]
    return [done[k] for k in range(len(job_files))]


def _visible_gpus(count: int) -> list[str]:
    """This process's GPUs by the ids it was given (CUDA_VISIBLE_DEVICES may already narrow them), else 0..n-1."""
    seen = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    return seen[:count] if seen else [str(i) for i in range(count)]


def _gpus_in_use(running: list) -> bool:
    """True when the running jobs hold GPUs (so a new one waits for a free GPU); False on a CPU-only machine."""
    return any(r[3] is not None for r in running)


def _collect(pairs, positions: dict, echo, follow, on_result, poll_once: bool = False) -> list[dict | None]:
    """Results of (job file, submitit job) pairs; with `poll_once`, None for those still running.

    `positions` remembers how much of each log was echoed already (with `follow`)."""
    out: list[dict | None] = [None] * len(pairs)
    while True:
        for i, (f, job) in enumerate(pairs):
            if out[i] is not None:
                continue
            if follow:
                _echo_new_lines(f, positions, echo)
            if job.done():
                out[i] = _result_of(f, job)
                if follow:
                    _echo_new_lines(f, positions, echo)
                if on_result:
                    on_result(out[i])
        if poll_once or all(r is not None for r in out):
            if poll_once:
                time.sleep(0.5)
            return out
        time.sleep(1.0)


def _result_of(job_file: Path, job) -> dict:
    """The job's result: the file it wrote (its own word), else its returned value; a job killed before either
    (timeout, OOM, scancel) becomes a failed result, recorded here since it could not record itself."""
    spec = json.loads(Path(job_file).read_text(encoding="utf-8"))
    written = result_path(job_file)
    if written.exists():
        res = json.loads(written.read_text(encoding="utf-8"))
        if res.get("name") == spec["name"]:
            return res
    try:
        res = job.result()
        if isinstance(res, dict) and res.get("name") == spec["name"]:
            return res
        raise RuntimeError(f"the executor returned another job's result ({res!r:.80})")
    except Exception as e:  # submitit's FailedJobError / UncompletedJobError: the process died
        res = {"name": spec["name"], "status": "failed", "seconds": None, "run_dir": None, "metrics": None,
               "error": f"the job process ended without a result ({type(e).__name__}: "
                        f"{' '.join(str(e).split())[:300]})"}
        if spec.get("record"):
            from experiments.records import record_cell

            record_cell(spec["record"], res, spec["log"])
        return res


def _echo_new_lines(job_file: Path, positions: dict, echo) -> None:
    """Echo what the job's log gained since the last call; `positions` keeps, per job, its log and the offset."""
    if str(job_file) not in positions:  # read the job's spec once, not at every poll
        positions[str(job_file)] = [Path(json.loads(Path(job_file).read_text(encoding="utf-8"))["log"]), 0]
    log, pos = positions[str(job_file)]
    if not log.exists():
        return
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(pos)
        text = f.read()
        positions[str(job_file)][1] = f.tell()
    for line in text.replace("\r", "\n").splitlines():
        if line.strip():  # a library's long line (a warning naming paths) is cut; the log keeps it whole
            line = "  " + line.rstrip()
            echo(line if len(line) <= LINE_WIDTH else line[:LINE_WIDTH - 1] + "…")


def _record_submitted(folder: Path, job_files: list[Path], ids: list[str]) -> None:
    from common.atomic import file_lock, write_json

    path = Path(folder) / "submitted.json"
    with file_lock(Path(folder) / ".submitted.lock"):  # shards submit into one folder
        known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        known.update({Path(f).stem: {"id": i, "at": time.time()} for f, i in zip(job_files, ids)})
        write_json(path, known)


UNKNOWN_GRACE_S = 600  # sacct may not know a task this soon after sbatch; later, UNKNOWN means accounting lost it
ALIVE = {"PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "COMPLETING", "RESIZING",
         "SUSPENDED", "PREEMPTED", "STAGE_OUT", "SIGNALING"}


def still_running(folder: Path) -> set[str]:
    """Names of jobs submitted to Slurm earlier that have no result yet and may still run (for --resume).

    UNKNOWN (sacct cannot tell) counts as running only within UNKNOWN_GRACE_S of submission; with no sacct at all,
    every job counts as gone, so --resume runs it again."""
    import shutil

    path = Path(folder) / "submitted.json"
    if not path.exists():
        return set()
    import submitit

    has_sacct = shutil.which("sacct") is not None
    out = set()
    for name, sub in json.loads(path.read_text(encoding="utf-8")).items():
        job_id, at = (sub["id"], sub["at"]) if isinstance(sub, dict) else (sub, 0.0)
        if not has_sacct or result_path(Path(folder) / "jobs" / f"{name}.json").exists():
            continue
        state = submitit.SlurmJob(folder=Path(folder) / "submitit", job_id=job_id).state
        if state in ALIVE or (state == "UNKNOWN" and time.time() - at < UNKNOWN_GRACE_S):
            out.add(name)
    return out


def _importable_from_anywhere() -> None:
    """Job processes unpickle `experiments.jobs.run_job`: put the repo on their path whatever the working dir."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *[p for p in paths if p]])
