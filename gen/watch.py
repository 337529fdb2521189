"""What train-gan watches while it trains: fixed-noise sample grids, per-class diversity against the reals (the
mode-collapse watch) and the judge's agreement, each a stats.jsonl row at every snapshot."""
from __future__ import annotations

from pathlib import Path

import torch

from common.atomic import append_jsonl
from gen.data import RealImages, to_float
from gen.gan import GanPair
from gen.judge import agreement
from gen.options import GanOptions
from gen.sampling import with_standing_stats
from gen.snapshots import COLLAPSE_RATIO, COLLAPSE_WARMUP, FALL_RATIO, collapsed_classes, coverage_fallen, \
    mean_pairwise_distance, save_grid

GRID_COLS = 8        # fakes<step>.png: one row per class, this many columns (the same noise in every row)
DIVERSITY_N = 32     # fixed fakes per class for the mode-collapse watch and classifier agreement


def sampling_gens(pairs: list[GanPair], nz: int, n_classes: int, device) -> list[torch.nn.Module]:
    """Each pair's G_ema with standing BN statistics (copies), as every sample taken during training uses it."""
    k_all = n_classes if pairs[0].conditional else 0
    return [with_standing_stats(p.ema.module, nz, k_all, device) for p in pairs]


class Watch:
    """Fixed noise and fixed real images: sample grids and the per-class diversity (mode-collapse watch)."""

    def __init__(self, real: RealImages, names: list[str], opts: GanOptions, device, judge=None,
                 real_features: dict[str, torch.Tensor] | None = None):
        g = torch.Generator().manual_seed(opts.seed + 1_000_003)  # private: never touches the training RNG
        self.z = torch.randn(DIVERSITY_N, opts.nz, generator=g).to(device)
        self.names, self.device, self.nz, self.judge = names, device, opts.nz, judge
        self.real_by_class = []
        for k in range(len(names)):
            idx = torch.nonzero(real.targets == k).flatten()[:64]
            self.real_by_class.append(to_float(real.images[idx]))
        self.real_div = {c: mean_pairwise_distance(x) for c, x in zip(names, self.real_by_class)}
        self.peak_div: dict[str, float] = {}
        self.real_features = real_features  # the judge's features of the reals (gen.variety), or None
        self.peak_cov: dict[str, float] = {}

    def restore_peaks(self, rows: list[dict]) -> None:
        """After a resume, the peak diversity per class from the run's stats.jsonl."""
        for r in rows:
            for c, v in r.get("diversity", {}).items():
                self.peak_div[c] = max(v, self.peak_div.get(c, 0.0))
            for c, v in r.get("coverage", {}).items():
                self.peak_cov[c] = max(v, self.peak_cov.get(c, 0.0))

    def real_grid(self) -> torch.Tensor:
        rows = []
        for x in self.real_by_class:
            row = torch.full((GRID_COLS, *x.shape[1:]), -1.0)
            row[:len(x[:GRID_COLS])] = x[:GRID_COLS]
            rows.append(row)
        return torch.cat(rows)

    @torch.no_grad()
    def fakes(self, pairs: list[GanPair]) -> list[torch.Tensor]:
        """DIVERSITY_N fakes per class from G_ema with standing BN statistics (a copy: no RNG, EMA untouched)."""
        conditional = pairs[0].conditional
        gens = sampling_gens(pairs, self.nz, len(self.names), self.device)
        out = []
        for k in range(len(self.names)):
            G = gens[0] if conditional else gens[k]
            y = torch.full((DIVERSITY_N,), k, dtype=torch.long, device=self.device) if conditional else None
            out.append(G(self.z, y).float().cpu())
        return out

    def agreement(self, fakes: list[torch.Tensor]) -> dict[str, float] | None:
        """Share of each class's fakes the judge assigns to that class (None without a judge)."""
        if self.judge is None:
            return None
        from gen.data import to_uint8

        shares = agreement(self.judge[0], {k: to_uint8(f) for k, f in enumerate(fakes)}, self.device)
        return {self.names[k]: round(v, 4) for k, v in shares.items()}

    def variety(self, fakes: list[torch.Tensor]) -> dict[str, dict[str, float]]:
        """Per-class coverage and density of the fakes in the judge's features ({} without a judge)."""
        if self.judge is None or not self.real_features:
            return {}
        from gen.data import to_uint8
        from gen.judge import embed
        from gen.variety import per_class

        fake = {c: embed(self.judge[0], to_uint8(f), self.device) for c, f in zip(self.names, fakes)}
        return per_class(self.real_features, fake)


def snapshot(run_dir: Path, step: int, pairs: list[GanPair], watch: Watch, curves=None) -> list[str]:
    """fakes<step>.png and a stats.jsonl row: diversity and agreement per class (+ a collapse warning), also as
    TensorBoard curves and image when `curves` (gen.curves.GanCurves) is given. Rank 0."""
    names = watch.names
    fakes = watch.fakes(pairs)
    grid = torch.cat([f[:GRID_COLS] for f in fakes])
    save_grid(run_dir / f"fakes{step:06d}.png", grid, nrow=GRID_COLS)
    div = {c: round(mean_pairwise_distance(f), 5) for c, f in zip(names, fakes)}
    collapsed = collapsed_classes(div, watch.real_div, watch.peak_div, trained=step >= COLLAPSE_WARMUP)
    watch.peak_div = {c: max(v, watch.peak_div.get(c, 0.0)) for c, v in div.items()}
    variety = watch.variety(fakes)
    coverage = {c: m["coverage"] for c, m in variety.items()}
    fallen = coverage_fallen(coverage, watch.peak_cov)
    watch.peak_cov = {c: max(v, watch.peak_cov.get(c, 0.0)) for c, v in coverage.items()}
    row = {"step": step, "diversity": div, "real_diversity": {c: round(v, 5) for c, v in watch.real_div.items()},
           "collapse_warning": sorted(set(collapsed) | set(fallen), key=names.index)}
    if variety:
        row.update(coverage=coverage, density={c: m["density"] for c, m in variety.items()},
                   coverage_fallen=fallen)
    agree = watch.agreement(fakes)
    if agree is not None:
        row.update(agreement=agree, agreement_mean=round(sum(agree.values()) / len(agree), 4),
                   judge_real_acc=watch.judge[1]["real_acc"])
    append_jsonl(run_dir / "stats.jsonl", row)
    if curves is not None:
        curves.snapshot(row, grid, GRID_COLS)
    from tqdm import tqdm

    if collapsed:
        tqdm.write(f"warning: step {step}: fakes of class(es) {', '.join(collapsed)} are far less diverse than the "
                   f"real ones (mean pairwise distance < {COLLAPSE_RATIO} x the real images'); possible mode collapse, "
                   f"see fakes{step:06d}.png")
    if fallen:
        tqdm.write(f"warning: step {step}: fakes of class(es) {', '.join(fallen)} cover under {FALL_RATIO} x the real "
                   "images they covered at their best (judge features); collapse onto a few easy images of the "
                   f"class, see fakes{step:06d}.png")
    return row["collapse_warning"]
