"""Variety and class correctness of generated images, per class: what FID alone cannot tell.

diversity = mean pairwise distance of a class's fakes (gen.snapshots.mean_pairwise_distance, RMS per pixel),
reported beside the real images' and as their ratio; coverage/density = the same variety in the judge's features
(gen.variety), which noise cannot fake; agreement = share of the class's fakes the run's judge
(gen.judge, a small CNN trained on the reals) assigns to the class. A GAN that ignores z scores a ratio near 0;
one that ignores the class scores agreement near chance. Used by `synth` (quality.json) and `fid`.
"""
from __future__ import annotations

from pathlib import Path

import torch

from gen.data import to_float
from gen.snapshots import mean_pairwise_distance

MAX_PER_CLASS = 256  # pairwise distances grow quadratically; 256 images give the mean to about 1%


def class_quality(fakes: dict[str, torch.Tensor], judge=None, real_div: dict[str, float] | None = None,
                  real_features: dict[str, torch.Tensor] | None = None) -> dict:
    """{per_class: {c: diversity, real_diversity, diversity_ratio, agreement, coverage, density, n}, summary keys}
    for uint8 fakes.

    `judge` is (net, info, class_names) from gen.judge.load_judge, or None (agreement then absent, with why);
    `real_features` the reals' judge features per class (gen.judge.load_real_features) for coverage/density.
    """
    from gen.judge import embed, predict
    from gen.variety import coverage_density

    rows, ratios, agrees, covs = {}, [], [], []
    for c, x in fakes.items():
        x = x[:MAX_PER_CLASS]
        row: dict = {"n": int(len(x)), "diversity": round(mean_pairwise_distance(to_float(x)), 5)}
        if real_div and real_div.get(c):
            row["real_diversity"] = round(real_div[c], 5)
            row["diversity_ratio"] = round(row["diversity"] / real_div[c], 4)
            ratios.append(row["diversity_ratio"])
        if judge is not None and c in judge[2] and len(x):
            k = judge[2].index(c)
            row["agreement"] = round(float((predict(judge[0], x) == k).float().mean()), 4)
            agrees.append(row["agreement"])
            m = coverage_density(real_features[c], embed(judge[0], x)) if real_features and c in real_features \
                else None
            if m is not None:
                row.update(m)
                covs.append(m["coverage"])
        rows[c] = row
    out: dict = {"per_class": rows}
    if ratios:
        out.update(diversity_ratio_min=min(ratios), diversity_ratio_mean=round(sum(ratios) / len(ratios), 4))
    if covs:
        out.update(coverage_min=min(covs), coverage_mean=round(sum(covs) / len(covs), 4),
                   coverage_space="the judge's pooled features (gen.variety; prdc, k=5)")
    if judge is not None:
        out.update(agreement_mean=round(sum(agrees) / len(agrees), 4) if agrees else None,
                   judge_real_acc=judge[1].get("real_acc"),
                   judge="small CNN trained on the GAN run's real images (gen.judge); never saw a fake")
    else:
        out["agreement_unavailable"] = "no judge.pt: the images do not come from a train-gan run that trained one"
    return out


def run_real_diversity(run: str | Path) -> dict[str, float] | None:
    """The reals' per-class diversity a train-gan run measured (its stats.jsonl), or None."""
    from common.atomic import read_jsonl

    path = Path(run) / "stats.jsonl"
    if not path.is_file():
        return None
    rows = [r for r in read_jsonl(path) if "real_diversity" in r]
    return rows[-1]["real_diversity"] if rows else None


def run_real_features(run: str | Path) -> dict[str, torch.Tensor] | None:
    """The reals' judge features a train-gan run kept in judge.pt, or None."""
    from gen.judge import load_real_features

    return load_real_features(Path(run) / "judge.pt")


def load_run_judge(run: str | Path, device="cpu"):
    """(net, info, class_names) of a train-gan run's judge.pt, or None."""
    from gen.judge import load_judge

    return load_judge(Path(run) / "judge.pt", device)


def format_quality(q: dict) -> list[str]:
    """Terminal lines: one per class with diversity (ratio to real) and agreement."""
    lines = []
    for c, r in q["per_class"].items():
        ratio = f" ({r['diversity_ratio']:.2f}x real)" if "diversity_ratio" in r else ""
        agree = f", agreement {r['agreement']:.2f}" if "agreement" in r else ""
        cover = f", coverage {r['coverage']:.2f}" if "coverage" in r else ""
        ref = (q.get("reference") or {}).get("per_class", {}).get(c, {})
        if "agreement" in ref:
            cover += f"; reference judge: agreement {ref['agreement']:.2f}" + (
                f", coverage {ref['coverage']:.2f}" if "coverage" in ref else "")
        lines.append(f"  {c}: diversity {r['diversity']:.3f}{ratio}{agree}{cover}")
    if q.get("agreement_mean") is not None:
        lines.append(f"  agreement mean {q['agreement_mean']:.3f} (the judge's accuracy on held-out real images: "
                     f"{q['judge_real_acc']:.3f})" if q.get("judge_real_acc") is not None
                     else f"  agreement mean {q['agreement_mean']:.3f}")
    ref = q.get("reference")
    if ref and ref.get("agreement_mean") is not None:
        lines.append(f"  reference judge (balanced {ref['data']}; held-out real accuracy "
                     f"{ref['judge_real_acc'] or float('nan'):.3f}): agreement min {ref['agreement_min']:.3f}, mean "
                     f"{ref['agreement_mean']:.3f}")
    return lines
