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
    remedy: str = "none"  # ratio 0 only: a real-data remedy for imbalance (config.REMEDIES)
    gan_seed: int | None = None  # with a grid.gan_seeds axis: which generator made the synthetic images
    weight: str = "1"     # loss weight of the synthetic images ("0.5"); real ones weigh 1
    real_last: int = 0    # the last N epochs on real images only

    @property
    def id(self) -> str:
        """Stable, filesystem-safe name: the same config always gives the same ids (resume, shards, CSV)."""
        pt = "pt" if self.pretrained else "scratch"
        g = "" if self.gan_seed is None else f"-g{self.gan_seed}"
        if self.kind == "cas":
            return f"cas{g}-{self.aug}-{pt}-s{self.seed}"
        f = "" if self.filter == "none" else f"-f{self.filter}"
        w = "" if self.weight == "1" else f"-w{self.weight}"
        rl = "" if not self.real_last else f"-rl{self.real_last}"
        m = "" if self.remedy == "none" else f"-{self.remedy}"
        return f"mix-r{self.ratio}{f}{w}{rl}{m}{g}-{self.aug}-{pt}-s{self.seed}"

    @property
    def arm(self) -> str:
        """What the cell compares against ratio 0: its ratio, with the filter, synthetic loss weight, real-only last
        epochs, remedy and generator seed when there are ("1@f0.5", "0+class_weighted", "1@ftop0.5:w0.5:rl2/g1")."""
        return arm_label(self.ratio, self.filter, self.remedy, self.gan_seed, self.weight, self.real_last)

    @property
    def synth_key(self) -> str:
        """Which prepared synthetic folder the cell draws from: its filter (and generator seed, when several)."""
        return synth_key(self.filter, self.gan_seed)

    def as_row(self) -> dict:
        return {"cell_id": self.id, **asdict(self)}


CAS_RATIO = "synthetic-only"


def arm_label(ratio: str, filter: str = "none", remedy: str = "none", gan_seed: int | None = None,
              weight: str = "1", real_last: int = 0) -> str:
    """"1", "1@f0.5", "0+balanced_sampler", "balance@f0.8/g1", "1@ftop0.5:w0.5:rl2+balanced_sampler": one name per
    compared arm (`:w` the synthetic images' loss weight, `:rl` epochs on real images only at the end)."""
    f = "" if filter == "none" else f"@f{filter}"
    w = "" if str(weight) == "1" else f":w{weight}"
    rl = "" if not real_last else f":rl{real_last}"
    m = "" if remedy == "none" else f"+{remedy}"
    g = "" if gan_seed is None else f"/g{gan_seed}"
    return f"{ratio}{f}{w}{rl}{m}{g}"


def parse_arm(arm: str) -> dict:
    """The inverse of arm_label: {'ratio', 'filter', 'remedy', 'gan_seed', 'weight', 'real_last'}."""
    rest, _, g = str(arm).partition("/g")
    rest, _, m = rest.partition("+")
    head, *opts = rest.split(":")
    r, _, f = head.partition("@f")
    got = {o[:2]: o[2:] for o in opts if o[:2] == "rl"} | {o[:1]: o[1:] for o in opts if o[:1] == "w"}
    return {"ratio": r, "filter": f or "none", "remedy": m or "none", "gan_seed": int(g) if g else None,
            "weight": got.get("w", "1"), "real_last": int(got.get("rl", 0))}


def synth_key(filter: str, gan_seed: int | None) -> str:
    return filter if gan_seed is None else f"g{gan_seed}:{filter}"


def _variants(cfg: AblationConfig, ratio: str) -> list[dict]:
    """The arms at a ratio: ratio 0 takes the real-data remedies; the others every generator x filter x synthetic
    loss weight x real-only last epochs x remedy used with the synthetic images (grid.synth_remedy)."""
    if ratio == "0":
        return [{"remedy": m} for m in cfg.remedies]
    return [{"filter": f, "weight": w, "real_last": rl, "remedy": m, "gan_seed": g} for g in (cfg.gan_seeds or [None])
            for f in cfg.filters for w in cfg.weights for rl in cfg.real_lasts for m in cfg.synth_remedies]


def build_cells(cfg: AblationConfig) -> list[Cell]:
    """All cells of a config in a fixed order: seed-major (a partial run holds whole seeds), then CAS cells."""
    cells = [Cell("mix", r, a, p, s, **v) for s in cfg.seeds for p in cfg.pretrained for a in cfg.augs
             for r in cfg.ratios for v in _variants(cfg, r)]
    if cfg.cas.enabled:
        aug = cfg.cas.aug or cfg.augs[0]
        pt = cfg.pretrained[0] if cfg.cas.pretrained is None else cfg.cas.pretrained
        cells += [Cell("cas", CAS_RATIO, aug, pt, s, gan_seed=g) for g in (cfg.gan_seeds or [None])
                  for s in (cfg.cas.seeds or cfg.seeds)]
    ids = [c.id for c in cells]
    if len(set(ids)) != len(ids):  # e.g. two augs that differ only in characters dropped from ids
        raise UserError("config: two grid cells get the same id; make aug preset names distinct")
    return cells


def arms(cfg: AblationConfig) -> list[str]:
    """The grid's arms in report order: real only and its remedies, then per generator every ratio, then each
    filtered, weighted, real-last and remedied ratio."""
    real = [arm_label("0", remedy=m) for m in cfg.remedies]
    synth = [arm_label(r, f, m, g, w, rl) for g in (cfg.gan_seeds or [None]) for f in cfg.filters
             for w in cfg.weights for rl in cfg.real_lasts for m in cfg.synth_remedies for r in cfg.ratios if r != "0"]
    return [*real, *synth]


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
