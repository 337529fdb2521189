"""prepared.json, read: what an ablation's preparation made (generators, their synth folders), for the grid and
the reports alike. ablate.py writes it; this file only reads its layout, so the report need not import ablate."""
from __future__ import annotations

from experiments.grid import synth_key


def generators(prepared: dict) -> dict[str, dict]:
    """The prepared generators by seed label ("" for the one generator of a grid without gan_seeds)."""
    return prepared["gans"] if "gans" in prepared else {"": prepared}


def synth_folders(prepared: dict) -> dict[str, str]:
    """Every prepared synthetic folder by its cells' Cell.synth_key."""
    return {synth_key(f, int(s) if s else None): path for s, g in generators(prepared).items()
            for f, path in (g.get("synth_by_filter") or {}).items()}
