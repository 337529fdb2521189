"""Run folders (`runs/00003-desc/`) and their self-describing config.json."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from common.atomic import write_json
from common.errors import UserError


def next_run_dir(root: str | Path, desc: str) -> Path:
    """Create and return `root/<NNNNN>-<desc>` with the next free number (stylegan2-ada style)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    while True:  # parallel processes (ablation shards) may race for the same number: take the next one
        try:
            ids = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"^(\d{5})-", p.name))]
            run = root / f"{(max(ids) + 1 if ids else 0):05d}-{slug(desc)}"
            run.mkdir()
            return run
        except FileExistsError:
            continue
        except FileNotFoundError:  # a failed run beside us removed the (empty) root it had made
            root.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def discard_on_error(run_dir: str | Path, made_root: bool, active: bool = True,
                     keep: tuple[str, ...] = ("config.json",)):
    """Whatever fails in the block removes the run folder unless it holds one of `keep` (glob patterns: what makes
    the folder worth keeping, e.g. a checkpoint to resume from), and its root too when this run created it and it
    is now empty: a refused, or crashed-before-its-first-checkpoint, run leaves nothing behind."""
    import shutil

    try:
        yield
    except BaseException:
        run_dir = Path(run_dir)
        if active and not any(any(run_dir.glob(k)) for k in keep):
            shutil.rmtree(run_dir, ignore_errors=True)
            if made_root:
                with contextlib.suppress(OSError):  # another run started in it meanwhile: it stays
                    run_dir.parent.rmdir()
        raise


CHECKPOINT_CHOICES = ("auto", "best", "last")


def run_checkpoint(path: str | Path, which: str = "auto", option: str = "--model", command: str = "train") -> Path:
    """A run folder (+ auto/best/last) or a checkpoint file → the file; the one lookup rule for every part.

    auto: best.pt when the run kept one, else last.pt. best or last asked by name must exist: no quiet substitute.
    """
    p = Path(path)
    if p.is_file():
        return p
    if not p.is_dir():
        raise UserError(f"{option} {path}: not found; pass a run folder written by `{command}` or a .pt checkpoint")
    if which not in CHECKPOINT_CHOICES:
        raise UserError(f"--checkpoint {which!r}: choose {', '.join(CHECKPOINT_CHOICES)}")
    best, last = p / "best.pt", p / "last.pt"
    if which == "auto":
        if best.exists() or last.exists():
            return best if best.exists() else last
        raise UserError(f"{option} {path}: no best.pt or last.pt; pass a run folder that `{command}` has saved a "
                        "checkpoint in")
    f = best if which == "best" else last
    if not f.exists():
        other = "last" if which == "best" else "best"
        raise UserError(f"{option} {path}: no {which}.pt in this run" +
                        (f"; use --checkpoint {other} or auto" if (p / f"{other}.pt").exists() else
                         f"; pass a run folder that `{command}` has saved a checkpoint in"))
    return f


def slug(text: str, default: str = "run") -> str:
    """A filesystem-safe name part (run folders, ablation folders)."""
    return re.sub(r"[^\w.+-]+", "-", text, flags=re.UNICODE).strip("-") or default


def versions() -> dict[str, str]:
    """Versions of Python and the stack, for config.json."""
    out = {"python": platform.python_version()}
    for name in ("torch", "torchvision", "timm", "albumentations", "torch_fidelity", "lightning", "numpy", "sklearn"):
        mod = sys.modules.get(name)
        if mod is None:
            try:
                mod = __import__(name)
            except Exception:  # an optional part of the stack is not installed
                continue
        out[name] = getattr(mod, "__version__", "?")
    return out


def git_commit() -> str | None:
    """The project's git commit (with '-dirty' when the tree has changes), or None outside git."""
    here = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def options_dict(options: Any) -> dict:
    """A dataclass (or dict) of options as a JSON-ready dict."""
    if dataclasses.is_dataclass(options):
        return json.loads(json.dumps(dataclasses.asdict(options), default=str))
    return json.loads(json.dumps(dict(options), default=str))


def _members(t) -> tuple:
    """The types a field annotation allows: a union's members (None's type among them), else the type itself."""
    import types
    import typing

    return typing.get_args(t) if typing.get_origin(t) in (typing.Union, types.UnionType) else (t,)


def typed_values(cls: type, values: dict, what: str, skip: tuple[str, ...] = ()) -> dict:
    """`values` checked against `cls`'s field types, lightly normalised; a wrong kind is one line naming it.

    An empty mapping or list field (`options:` with nothing under it) is empty, a number YAML read as text
    (`lr: 1e-3`) is a number, a list for a tuple field a tuple. Fields in `skip` have normalisers of their own.
    """
    import typing

    hints = typing.get_type_hints(cls)
    simple = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a mapping",
              list: "a list", tuple: "a list"}
    out = dict(values)
    for k, v in values.items():
        t = hints.get(k)
        if k in skip or t is None:
            continue
        kinds = [typing.get_origin(a) or a for a in _members(t)]
        if v is None and (type(None) in kinds or any(a in (dict, list, tuple) for a in kinds)):
            out[k] = None if type(None) in kinds else next(a() for a in kinds if a in (dict, list, tuple))
            continue
        if not all(a in simple or a is type(None) for a in kinds):
            continue  # a structured type is checked where it is used
        if float in kinds and isinstance(v, str):
            with contextlib.suppress(ValueError):
                v = out[k] = float(v)
        if tuple in kinds and isinstance(v, list):
            v = out[k] = tuple(v)
        ok = any((a is float and isinstance(v, (int, float)) and not isinstance(v, bool))
                 or (a is int and isinstance(v, int) and not isinstance(v, bool))
                 or (a in (str, bool, dict, list, tuple) and isinstance(v, a)) for a in kinds)
        if not ok:
            want = " or ".join(dict.fromkeys(simple[a] for a in kinds if a in simple))
            raise UserError(f"{what}: {k} {v!r} should be {want}")
    return out


def options_from_dict(cls: type, d: dict, what: str = "options") -> Any:
    """The inverse of `options_dict`: a dataclass rebuilt from JSON (nested dataclasses and tuples restored).

    Unknown keys are refused with one line naming them and the known ones (a renamed option fails loudly).
    """
    import typing

    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise UserError(f"{what}: unknown option(s) {', '.join(unknown)} for {cls.__name__}; known: "
                        f"{', '.join(fields)}")
    kw = {}
    for k, v in d.items():
        inner = [a for a in _members(hints[k]) if a is not type(None)]
        if dataclasses.is_dataclass(inner[0]) and isinstance(v, dict):
            v = options_from_dict(inner[0], v, f"{what}.{k}")
        elif typing.get_origin(inner[0]) is tuple and isinstance(v, list):
            v = tuple(v)
        kw[k] = v
    try:
        return cls(**kw)
    except TypeError as e:  # a required option missing
        raise UserError(f"{what}: {e}; give every required option of {cls.__name__}") from None


def write_config(run_dir: str | Path, command: str, options: Any, **extra: Any) -> dict:
    """Write run_dir/config.json: command, all options, versions, git commit, time; return it."""
    cfg = {
        "command": command,
        "options": options_dict(options),
        "versions": versions(),
        "git_commit": git_commit(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv,
        **extra,
    }
    write_json(Path(run_dir) / "config.json", cfg)
    return cfg


def read_config(run_dir: str | Path, command: str | None = None, option: str = "--resume") -> dict:
    """Read run_dir/config.json, or fail with a clear message; with `command`, refuse another command's run."""
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise UserError(f"{run_dir}: not a SynthMix run folder (no config.json); pass the folder a run created")
    cfg = json.loads(path.read_text(encoding="utf-8"))
    if command is not None and cfg.get("command") != command:
        raise UserError(f"{option} {run_dir}: a {cfg.get('command')} run folder, not a {command} run; "
                        f"pass a folder written by `{command}`")
    return cfg


def _flat(d: dict, prefix: str = "") -> dict:
    """Nested option dicts as dotted keys (data.data): a field added to a nested dataclass since the run was made
    is missing from its config.json, and compares as None, as a missing top-level field does."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def check_same_options(saved: dict, new: dict, ignore: tuple[str, ...] = (), paths: tuple[str, ...] = (),
                       action: str = "resume") -> None:
    """Refuse to resume (or another `action`) when options differ (mimicry's rule), naming every difference.

    `paths` (dotted keys) are compared resolved: `--data data/x` and `--data /abs/data/x` are the same option.
    """
    from common.paths import resolved

    saved, new = _flat(saved), _flat(new)
    for d in (saved, new):
        for k in paths:
            if isinstance(d.get(k), str) and d[k].strip():
                d[k] = str(resolved(d[k]))
    diffs = [f"{k}: run has {saved.get(k)!r}, now {new.get(k)!r}"
             for k in sorted(set(saved) | set(new))
             if k not in ignore and k.split(".")[0] not in ignore and saved.get(k) != new.get(k)]
    if diffs:
        raise UserError(f"cannot {action}: options differ from the run's config.json (" + "; ".join(diffs)
                        + "); drop the changed options or start a new run")
