"""Where outputs go: checked before any work, so a bad --out costs one line, not minutes and a traceback."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from common.errors import UserError


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _can_write_in(folder: Path) -> bool:
    """Try it: os.access says yes to root on a read-only mount, a real temp file does not."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _check_parent_writable(path: Path, option: str, what: str) -> None:
    """The folder that will hold `path` exists as a writable folder, or can be made in one."""
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise UserError(f"{option} {path}: {base} is a file, not a folder; pass a {what} under a folder")
    if not _can_write_in(base):
        raise UserError(f"{option} {path}: cannot write in {base} (read-only or permission denied); "
                        f"pass a {what} you can write")


def _given(path: str | os.PathLike, option: str) -> Path:
    if not str(path).strip():  # Path("") is the current folder: outputs would land wherever the command ran
        raise UserError(f"{option} '': empty; pass a path (write . for the current folder)")
    return Path(path)


def check_outside(out: str | os.PathLike, inputs: dict[str, str | os.PathLike | None], option: str = "--out") -> None:
    """The output place is not inside an input folder: written there, it would be read as data next time (a run
    folder inside a class-per-folder set looks like an empty class, an image written into a class joins it)."""
    from common.paths import is_inside

    for name, folder in inputs.items():
        if folder and str(folder).strip() and Path(folder).is_dir() and is_inside(out, folder):
            raise UserError(f"{option} {out}: inside {name} {folder}; what is written there would be read as data "
                            f"next time; pass a place outside {name}")


def check_out_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """`path` is (or can become) a folder this process can write into."""
    path = _given(path, option)
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path}: a file is there, not a folder; pass a folder (new or existing)")
    if path.is_dir():
        if not _can_write_in(path):
            raise UserError(f"{option} {path}: cannot write in this folder (read-only or permission denied); "
                            "pass a folder you can write")
        return path
    _check_parent_writable(path, option, "folder")
    return path


def check_out_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """`path` names a file this process can (over)write: not a folder, in a writable folder."""
    path = _given(path, option)
    if path.is_dir():
        example = path / f"out{path.suffix or '.csv'}"
        raise UserError(f"{option} {path}: a folder is there; pass a file name (e.g. {example})")
    _check_parent_writable(path, option, "file")
    return path


def check_new_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """A folder that must not exist yet (or be empty), in a writable place."""
    path = Path(path)
    check_out_dir(path, option)
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"{option} {path}: folder exists and is not empty; pass a new folder")
    return path
