"""Config -> the list of cells (one classifier run each, stable ids), and `--shard i/n` over that list."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from common.errors import UserError
from experiments.config import AblationConfig


@dataclass(frozen=True)
class Cell:
    """One classifier run: real+synthetic mix ("mix") or synthetic-only CAS ("cas")."""

    kind: str            # "mix" | "cas"
    ratio: str           # "0", "0.5", "balance"; "synthetic-only" for cas
    aug: str
    pretrained: bool
    seed: int
    filter: str = "none"  # synthetic images kept only above this real-data classifier confidence ("0.5")

    @property
    def id(self) -> str:
        """Stable, filesystem-safe name: the same config always gives the same ids (resume, shards, CSV)."""
        pt = "pt" if self.pretrained else "scratch"
        if self.kind == "cas":
            return f"cas-{self.aug}-{pt}-s{self.seed}"
        f = "" if self.filter == "none" else f"-f{self.filter}"
        return f"mix-r{self.ratio}{f}-{self.aug}-{pt}-s{self.seed}"

    @property
    def arm(self) -> str:
        """What the cell compares against ratio 0: its ratio, with the filter when there is one ("1@f0.5")."""
        return self.ratio if self.filter == "none" else f"{self.ratio}@f{self.filter}"

    def as_row(self) -> dict:
        return {"cell_id": self.id, **asdict(self)}


CAS_RATIO = "synthetic-only"


def build_cells(cfg: AblationConfig) -> list[Cell]:
    """All cells of a config in a fixed order: seed-major (a partial run holds whole seeds), then CAS cells."""
    cells = [Cell("mix", r, a, p, s, f) for s in cfg.seeds for p in cfg.pretrained for a in cfg.augs
             for r in cfg.ratios for f in (["none"] if r == "0" else cfg.filters)]
    if cfg.cas.enabled:
        aug = cfg.cas.aug or cfg.augs[0]
        pt = cfg.pretrained[0] if cfg.cas.pretrained is None else cfg.cas.pretrained
        cells += [Cell("cas", CAS_RATIO, aug, pt, s) for s in (cfg.cas.seeds or cfg.seeds)]
    ids = [c.id for c in cells]
    if len(set(ids)) != len(ids):  # e.g. two augs that differ only in characters dropped from ids
        raise UserError("config: two grid cells get the same id; make aug preset names distinct")
    return cells


def arms(cfg: AblationConfig) -> list[str]:
    """The grid's arms in report order: every ratio, then each filtered ratio."""
    return [*cfg.ratios, *(f"{r}@f{f}" for f in cfg.filters if f != "none" for r in cfg.ratios if r != "0")]


def parse_shard(spec: str | None) -> tuple[int, int]:
    """'i/n' with 0 ≤ i < n -> (i, n); None -> (0, 1), the whole grid."""
    if spec is None:
        return 0, 1
    try:
        i, n = (int(x) for x in str(spec).split("/"))
    except ValueError:
        raise UserError(f"--shard {spec!r}: use i/n, e.g. 0/4 ... 3/4 for four machines") from None
    if n < 1 or not 0 <= i < n:
        raise UserError(f"--shard {spec!r}: need 0 ≤ i < n (shards are numbered from 0), e.g. 0/2 and 1/2")
    return i, n


def shard(cells: list[Cell], i: int, n: int) -> list[Cell]:
    """Cells whose index ≡ i (mod n): shards 0..n-1 together hold every cell exactly once, each about 1/n."""
    return [c for _, c in shard_indexed(cells, i, n)]


def shard_indexed(cells: list[Cell], i: int, n: int) -> list[tuple[int, Cell]]:
    """`shard` with each cell's index in the whole grid (results.csv keeps grid order across shards)."""
    return [(k, c) for k, c in enumerate(cells) if k % n == i]
