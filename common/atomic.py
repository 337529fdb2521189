"""Write-then-rename helpers, so a failed command never leaves a half-written output."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success it replaces `path`, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs follow the umask like any other file
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp folder beside `path`; on success it becomes `path` (replacing an old one).

    Writers of the same folder take turns (a lock file beside it), so the temp folders of earlier writes of `path`
    that were killed (SIGKILL skips cleanup) are litter, and are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.parent / f".{path.name}.lock"):
        mine = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")  # exactly what mkdtemp below makes
        for stale in path.parent.iterdir():
            if mine.fullmatch(stale.name) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        try:
            yield tmp
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on `path` (made if missing) for the block: processes sharing a folder take turns.

    The lock file is removed on release, so a finished command leaves none behind. Removing it is safe because a
    waiter that then gets the lock checks it still holds the file at `path` (not the removed one), else retries.
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        f = open(path, "a")
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            if os.fstat(f.fileno()).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        f.close()  # the holder before us removed this file: lock the one at `path` now
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while still held: the next holder finds its file gone and retries
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


# What atomic_path and atomic_dir name their temp files and folders: `.<name>.<random>.tmp[<ext>]`.
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]+\.tmp(\.[^./]+)?")


def remove_orphans(folder: str | os.PathLike) -> list[Path]:
    """Delete the temp files a killed writer left in `folder` (`.<name>.<random>.tmp<ext>`); return them."""
    gone = []
    folder = Path(folder)
    if not folder.is_dir():
        return gone
    for p in folder.iterdir():
        if not _TEMP_NAME.fullmatch(p.name):
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        gone.append(p)
    return gone


def exit_on_sigterm() -> None:
    """Turn SIGTERM (`kill PID`, a scheduler's stop) into SystemExit, so every `finally` runs and the temp files of
    writes in progress are removed, as on Ctrl-C; Python's default just ends the process mid-write."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default), encoding="utf-8")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def append_jsonl(path: str | os.PathLike, obj: Any) -> None:
    """Append one JSON line (append-only logs such as stats.jsonl; a torn last line is tolerated by readers)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj, ensure_ascii=False, default=_json_default) + "\n")


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON-lines file, skipping a torn final line left by a killed run."""
    rows = []
    p = Path(path)
    if not p.exists():
        return rows
    for line in p.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _json_default(o: Any) -> Any:
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):  # numpy / torch scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
