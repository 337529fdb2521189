"""Statistics for ablations, as pure functions over a results DataFrame (one row per cell and seed).

Means with Student-t 95% intervals, paired differences against the ratio-0 baseline matched on seed and every
other setting, paired t-test (and Wilcoxon) p-values, Holm-adjusted p-values, and the verdict rule.
scipy gives the t quantile and the tests; the pairing and the verdict are ours because no library knows our grid.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

BASELINE_RATIO = "0"


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean, sample std and the two-sided Student-t interval mean ± t_{(1+c)/2, n-1} · s/√n.

    NaNs are dropped. With one value the interval is undefined (NaN), never a fake zero-width band.
    """
    x = np.asarray([v for v in values if v is not None and not _isnan(v)], dtype=float)
    n = len(x)
    if n == 0:
        return {"n": 0, "mean": math.nan, "std": math.nan, "ci_lo": math.nan, "ci_hi": math.nan}
    mean = float(x.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "std": math.nan, "ci_lo": math.nan, "ci_hi": math.nan}
    std = float(x.std(ddof=1))
    half = float(sps.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    return {"n": n, "mean": mean, "std": std, "ci_lo": mean - half, "ci_hi": mean + half}


def summarize(df: pd.DataFrame, by: Sequence[str], metrics: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """Long table: one row per setting (`by`) and metric with n, mean, std, ci_lo, ci_hi."""
    rows = []
    for key, grp in df.groupby(list(by), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in metrics:
            if m in grp:
                rows.append({**dict(zip(by, key)), "metric": m, **mean_ci(grp[m].tolist(), confidence)})
    return pd.DataFrame(rows, columns=[*by, "metric", "n", "mean", "std", "ci_lo", "ci_hi"])


def paired_differences(df: pd.DataFrame, metric: str, setting: Sequence[str], ratio: str = "ratio",
                       seed: str = "seed", baseline: str = BASELINE_RATIO, confidence: float = 0.95,
                       wilcoxon: bool = True) -> pd.DataFrame:
    """Each non-baseline ratio minus the baseline ratio, paired on seed + `setting` (e.g. aug, pretrained).

    Only seeds present on both sides count (a failed cell drops its pair, not the whole setting).
    Returns one row per (setting..., ratio): n_pairs, mean_diff, std_diff, ci_lo, ci_hi, p_value (paired t-test),
    p_wilcoxon (two-sided signed-rank; NaN when undefined), and p_holm (Holm across the returned rows).
    """
    setting = list(setting)
    cols = [*setting, ratio, "n_pairs", "mean_diff", "std_diff", "ci_lo", "ci_hi", "p_value", "p_wilcoxon"]
    df = df[[*setting, ratio, seed, metric]].dropna(subset=[metric])
    df = df.assign(**{ratio: df[ratio].astype(str)})
    base = df[df[ratio] == baseline].drop(columns=[ratio]).rename(columns={metric: "_base"})
    rows = []
    for key, grp in df[df[ratio] != baseline].groupby([*setting, ratio], sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        pairs = grp.merge(base, on=[*setting, seed], how="inner")
        d = (pairs[metric] - pairs["_base"]).to_numpy(dtype=float)
        ci = mean_ci(d, confidence)
        rows.append({**dict(zip([*setting, ratio], key)), "n_pairs": ci["n"], "mean_diff": ci["mean"],
                     "std_diff": ci["std"], "ci_lo": ci["ci_lo"], "ci_hi": ci["ci_hi"],
                     "p_value": paired_t_pvalue(pairs[metric], pairs["_base"]),
                     "p_wilcoxon": wilcoxon_pvalue(d) if wilcoxon else math.nan})
    out = pd.DataFrame(rows, columns=cols)
    out["p_holm"] = holm(out["p_value"].tolist())
    return out


def paired_t_pvalue(treated: Sequence[float], baseline: Sequence[float]) -> float:
    """Two-sided paired t-test p-value (scipy.stats.ttest_rel); NaN with fewer than 2 pairs or zero spread."""
    a, b = np.asarray(treated, dtype=float), np.asarray(baseline, dtype=float)
    if len(a) < 2:
        return math.nan
    d = a - b
    if np.all(d == d[0]):
        # No spread: t is ±inf (or 0/0); scipy returns NaN or 0 with a warning. Report the honest cases.
        return 1.0 if d[0] == 0 else 0.0
    return float(sps.ttest_rel(a, b).pvalue)


def wilcoxon_pvalue(diffs: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences; NaN when all are zero or too few."""
    d = np.asarray(diffs, dtype=float)
    if len(d) < 2 or np.all(d == 0):
        return math.nan
    try:
        return float(sps.wilcoxon(d).pvalue)
    except ValueError:
        return math.nan


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (NaNs stay NaN and are not counted); scipy has only BH/BY."""
    idx = [i for i, p in enumerate(pvalues) if not _isnan(p)]
    m = len(idx)
    out = [math.nan] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: pvalues[j])):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


VERDICT_RULE = ("helped: the synthetic setting with the largest paired mean difference against ratio 0 (real only; "
                "a setting that uses a remedy with its synthetic images: real only with that remedy) "
                "has a 95% CI entirely above 0; hurt: even that best setting has a CI entirely below 0; otherwise no "
                "measurable difference. With several generator seeds the generator is part of the treatment: a "
                "setting counts only as strongly as its weakest generator seed (the seed with the lowest CI bound). "
                "When the grid has real-data arms beside real only (remedies, real only at equal cost), the "
                "differences are taken against the best of them in each setting instead: synthetic images must beat "
                "the strongest real-data arm, not the weakest")


def verdict(paired: pd.DataFrame, metric: str, setting: Sequence[str], ratio: str = "ratio",
            treatment: pd.Series | None = None, generators: int = 1, against: str = "ratio 0") -> dict:
    """Apply VERDICT_RULE to a `paired_differences` table; returns {'verdict', 'line', 'best': row or None}.

    `treatment` names each row's setting without its generator seed: rows sharing it are one treatment under
    `generators` generator seeds (None: every row is its own treatment). A treatment is judged by its weakest seed
    (lowest CI bound; a seed without a CI, or missing, is weakest of all) and is "hurt" only when every seed's CI is
    below 0. `against` names the baseline the differences were taken against, for the line.
    """
    rows = paired.dropna(subset=["mean_diff"])
    if rows.empty:
        return {"verdict": "not measured", "best": None,
                "line": f"Verdict ({metric}): not measured — no synthetic setting has a finished pair with {against}."}
    keys = [*setting, "_treatment"]
    rows = rows.assign(_treatment=(treatment if treatment is not None else rows[ratio]).reindex(rows.index),
                       _lo=rows["ci_lo"].astype(float).fillna(-math.inf))
    groups = rows.groupby(keys, sort=False, dropna=False)
    weakest = rows.loc[groups["_lo"].idxmin()].assign(
        _hi=groups["ci_hi"].max().to_numpy(), _seeds=groups.size().to_numpy())
    if treatment is not None:
        weakest.loc[weakest["_seeds"] < generators, "_lo"] = -math.inf  # a generator seed with no finished pair
    best = weakest.loc[weakest["mean_diff"].idxmax()]
    shown = "_treatment" if treatment is not None else ratio
    where = ", ".join([f"ratio={best[shown]}", *(f"{c}={best[c]}" for c in setting)])
    est = (f"{best['mean_diff']:+.4f} [{best['ci_lo']:+.4f}, {best['ci_hi']:+.4f}], p={best['p_value']:.3g}, "
           f"n={int(best['n_pairs'])} seeds")
    if treatment is not None:
        seeds = rows[(rows[keys] == best[keys]).all(axis=1)].sort_values("_lo")
        est += (f"; per generator seed ({len(seeds)} of {generators}, weakest first): " + ", ".join(
            f"{r[ratio].rpartition('/')[2]} {r['mean_diff']:+.4f} [{r['ci_lo']:+.4f}, {r['ci_hi']:+.4f}]"
            for _, r in seeds.iterrows()))
    if best["_lo"] > 0:
        v, text = "helped", f"synthetic data HELPED: best at {where}, {est}"
    elif best["_hi"] < 0:
        v, text = "hurt", f"synthetic data HURT at every setting tried; least bad at {where}, {est}"
    else:
        v, text = "no measurable difference", f"NO MEASURABLE DIFFERENCE: best at {where}, {est}"
    hurt = rows[rows["ci_hi"] < 0]
    if v != "hurt" and len(hurt):
        worse = [", ".join(f"{c}={r[c]}" for c in [ratio, *setting]) + f" ({r['mean_diff']:+.4f})"
                 for _, r in hurt.iterrows()]
        text += "; significantly worse at " + "; ".join(worse)
    return {"verdict": v, "best": best.drop(labels=["_treatment", "_lo", "_hi", "_seeds"]).to_dict(),
            "line": f"Verdict ({metric}, paired vs {against}): {text}."}


def _isnan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return False
