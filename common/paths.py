"""Path options: an empty one is refused (Path("") is the current folder), and places are compared resolved."""
from __future__ import annotations

import os
from pathlib import Path

import click

from common.errors import UserError


def cache_root() -> Path:
    """SynthMix's cache folder (extracted data, offline weights, reference judges): $SYNTHMIX_CACHE, else
    ~/.cache/synthmix."""
    return Path(os.environ.get("SYNTHMIX_CACHE") or Path.home() / ".cache" / "synthmix")


def resolved(p: str | os.PathLike) -> Path:
    """`p` absolute, `~` expanded and links followed, whether or not it exists (how two spellings compare)."""
    return Path(p).expanduser().resolve()


def is_inside(inner: str | os.PathLike, outer: str | os.PathLike) -> bool:
    """`inner` is `outer` or somewhere below it (both resolved)."""
    a, b = resolved(inner), resolved(outer)
    return a == b or b in a.parents


class PathText(click.ParamType):
    """A click option naming a file or folder: an empty value is refused instead of meaning the current folder
    (`--data ''` took the working folder's subfolders for classes; `--resume ''` silently started a new run)."""

    name = "path"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            opt = param.opts[0] if param is not None and param.opts else "path"
            raise UserError(f"{opt} {value!r}: empty; pass a path (an empty one is not the current folder: "
                            "write . for that)")
        return value


PATH = PathText()
