"""Seeding and RNG state capture, for reproducible runs and exact resume."""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def get_rng_state() -> dict:
    """All RNG states, to store in a checkpoint."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the states saved by `get_rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def rng_to_safe(state: dict) -> dict:
    """`get_rng_state()` with numpy's array turned into a tensor (weights_only-loadable)."""
    name, keys, pos, has_gauss, cached = state["numpy"]
    out = {"python": state["python"], "numpy": [name, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                                                 int(has_gauss), float(cached)], "torch": state["torch"]}
    if "cuda" in state:
        out["cuda"] = list(state["cuda"])
    return out


def rng_from_safe(state: dict) -> dict:
    """The inverse of `rng_to_safe`, ready for `set_rng_state`."""
    name, keys, pos, has_gauss, cached = state["numpy"]
    out = {"python": _tuples(state["python"]), "numpy": (name, keys.numpy().astype(np.uint32), pos, has_gauss, cached),
           "torch": state["torch"]}
    if "cuda" in state:
        out["cuda"] = state["cuda"]
    return out


def _tuples(x):
    """random.setstate needs tuples; a round trip through some loaders may give lists."""
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


def parse_seeds(spec: str) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7] (stylegan2-ada's --seeds syntax)."""
    from common.errors import UserError

    seeds: list[int] = []
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                a, b = part.split("-", 1)
                a, b = int(a), int(b)
                if b < a:
                    raise ValueError
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise UserError(f"bad seed list {spec!r}: use e.g. '0-499' or '0,5,9'") from None
    return seeds
