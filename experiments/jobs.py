"""A job: one part's command with its typed options, written as JSON and run in a process of its own.

`run_job(path)` is what an executor runs (a local subprocess, a Slurm array task, or in-process for debugging). It
rebuilds the options dataclass, calls the part's own function, and returns what it made — the run folder and its
metrics file — as a value; it never raises for a failing job, so one bad cell never stops a grid. Its output goes
to the job's log; a grid cell also writes its record (cells/<id>.json) itself, so a job that finishes while nobody
waits (Slurm, --no-wait) is still collected.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.atomic import write_json
from common.errors import UserError

# command → (options class, function, what it made: "run" returns a run folder, "out" writes opts.out)
COMMANDS = {
    "train": ("clf.options:TrainOptions", "clf.train:train", "run"),
    "train-gan": ("gen.options:GanOptions", "gen.train:train_gan", "run"),
    "synth": ("gen.options:SynthOptions", "gen.synth:synth", "out"),
    "fid": ("gen.metrics.command:FidOptions", "gen.metrics.command:run_fid", "out"),
}


@dataclass
class Job:
    """One command to run with its options; `record` makes it a grid cell (the row to record when it ends)."""

    name: str
    command: str
    options: Any
    log: str
    record: dict | None = None           # {"folder": ablation folder, "row": the cell's settings}
    brief: dict | None = None            # the few options that tell it from the other jobs (default: brief())

    def to_dict(self) -> dict:
        from common.runs import options_dict

        return {"name": self.name, "command": self.command, "options": options_dict(self.options), "log": self.log,
                "record": self.record, "brief": brief(self.options) if self.brief is None else self.brief}


LINE_WIDTH = 200  # a job's first line, and every line the console echoes from a job's log, fit on a screen


def flat_options(options) -> dict:
    """options_dict one level flat: {"data": {"data": p, "image_root": r}} -> {"data": p, "data.image_root": r}."""
    from common.runs import options_dict

    out = {}
    for k, v in options_dict(options).items():
        if isinstance(v, dict):
            out.update({k if sub == k else f"{k}.{sub}": w for sub, w in v.items()})
        else:
            out[k] = v
    return out


def shown(value, root: str | Path | None = None) -> str:
    """A value as a person reads it on the console: 4 significant digits, a path relative to `root` (or its name)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str) and os.sep in value:
        p = Path(value)
        if root is not None and p.is_relative_to(root):
            return str(p.relative_to(root))
        return p.name
    return str(value)


def brief(options, keys: list[str] | None = None, root: str | Path | None = None) -> dict[str, str]:
    """The few options worth a job's one line: `keys` (e.g. those that differ between a grid's cells), or else the
    ones set away from their defaults (paths left out: the job file has them). None and off are left out."""
    import dataclasses

    flat = flat_options(options)
    if keys is None:
        defaults = {f.name: f.default for f in dataclasses.fields(options) if f.default is not dataclasses.MISSING}
        keys = [k for k, v in flat.items() if k in defaults and v != defaults[k] and k not in ("out", "progress")
                and isinstance(v, (bool, int, float, str)) and not (isinstance(v, str) and os.sep in v)]
    return {k: shown(flat[k], root) for k in keys if flat.get(k) not in (None, False, "", (), [])}


def varying_keys(jobs_options: list) -> list[str]:
    """The option names whose values differ between these jobs (in field order)."""
    flats = [flat_options(o) for o in jobs_options]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    return [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]


def job_line(spec: dict, job_file: str | Path) -> str:
    """`$ train mix-r1-basic-scratch-s0: ratio=1 seed=0 (all options: jobs/mix-r1-basic-scratch-s0.json)`."""
    f = Path(job_file)
    name = "" if spec["name"] == spec["command"] else f" {spec['name']}"
    tail = f" (all options: {f.parent.name}/{f.name})"
    said = " ".join(f"{k}={v}" for k, v in (spec.get("brief") or {}).items())
    head = f"$ {spec['command']}{name}" + (f": {said}" if said else "")
    room = LINE_WIDTH - len(tail)
    return (head if len(head) <= room else head[:room - 1] + "…") + tail


def _load(ref: str):
    module, attr = ref.split(":")
    return getattr(importlib.import_module(module), attr)


def options_class(command: str) -> type:
    if command not in COMMANDS:
        raise UserError(f"job command {command!r}: unknown; one of {', '.join(COMMANDS)}")
    return _load(COMMANDS[command][0])


def write_job(job: Job, folder: str | Path) -> Path:
    """jobs/<name>.json in the ablation folder: everything a process needs to run the job (an earlier attempt's
    result beside it is removed, so only this attempt can answer)."""
    path = Path(folder) / "jobs" / f"{job.name}.json"
    result_path(path).unlink(missing_ok=True)
    return write_json(path, job.to_dict())


def result_path(job_file: str | Path) -> Path:
    p = Path(job_file)
    return p.with_name(p.stem + ".result.json")


def run_job(job_file: str) -> dict:
    """Run the job in `job_file`; return {name, status, error, seconds, run_dir, metrics} (also written beside it)."""
    import json

    from common.runs import options_from_dict

    spec = json.loads(Path(job_file).read_text(encoding="utf-8"))
    t0 = time.time()
    out: dict = {"name": spec["name"], "status": "failed", "error": "", "run_dir": None, "metrics": None}
    Path(spec["log"]).parent.mkdir(parents=True, exist_ok=True)
    with open(spec["log"], "a", encoding="utf-8", buffering=1) as log, _output_to(log):
        print(job_line(spec, job_file), flush=True)  # one line a person reads; every option is in the job file
        try:
            cls, fn, made = COMMANDS[spec["command"]]
            opts = options_from_dict(_load(cls), spec["options"], f"job {spec['name']}")
            value = _load(fn)(opts)
            where = Path(value) if made == "run" else Path(opts.out)
            out.update(status="ok", run_dir=str(where))
            metrics = where / "metrics.json" if where.is_dir() else where
            out["metrics"] = str(metrics) if metrics.is_file() else None
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C, or submitit requeueing a preempted task: not a result
            raise
        except BaseException as e:  # a failing part must become a record, not a dead grid
            msg = e.format_message() if isinstance(e, UserError) else f"{type(e).__name__}: {e}"
            if isinstance(e, UserError):
                print(f"Error: {msg}")  # the user's mistake, said in one line as on the command line
            else:
                traceback.print_exc()
            out["error"] = " ".join(str(msg).split())[:500]
        sys.stdout.flush()
        sys.stderr.flush()
    out["seconds"] = round(time.time() - t0, 2)
    write_json(result_path(job_file), out)
    if spec.get("record"):
        from experiments.records import record_cell

        record_cell(spec["record"], out, spec["log"])
    return out


@contextlib.contextmanager
def _output_to(log):
    """stdout and stderr (file descriptors too, so libraries and workers follow) into `log` for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    old = sys.stdout, sys.stderr
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout = sys.stderr = log
        yield
    finally:
        log.flush()
        sys.stdout, sys.stderr = old
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
