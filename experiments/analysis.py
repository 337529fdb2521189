"""The ablation's analysis beside experiments.stats: results.csv typed, per-class gains paired on seed and setting,
and whether rare classes gain most. The report renders what these compute."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from experiments import stats
from experiments.grid import arm_label, parse_arm

SETTING = ["aug", "pretrained"]


def load_results(folder: Path) -> pd.DataFrame:
    """results.csv with typed columns (ratio as its label string, pretrained as bool)."""
    path = Path(folder) / "results.csv"
    if not path.exists() or path.stat().st_size <= 1:
        return pd.DataFrame(columns=["cell_id", "kind", "ratio", "aug", "pretrained", "seed", "status"])
    df = pd.read_csv(path, dtype={"ratio": str, "arm": str, "filter": str, "aug": str, "cell_id": str})
    if "arm" in df:  # a filtered ratio is its own arm ("1@f0.5"), compared with ratio 0 like any ratio
        df["ratio"] = df["arm"].where(df["arm"].notna(), df["ratio"])
    if len(df) and df["pretrained"].dtype != bool:
        df["pretrained"] = df["pretrained"].astype(str).str.lower().isin(["true", "1"])
    return df


def per_class_long(mix: pd.DataFrame) -> pd.DataFrame:
    """One row per finished cell and class: the cell's settings, seed, class and its test F1."""
    rows = []
    for _, r in mix.iterrows():
        try:
            f1 = json.loads(r["test_per_class_f1"]) if isinstance(r.get("test_per_class_f1"), str) else {}
        except json.JSONDecodeError:
            f1 = {}
        rows += [{"aug": r["aug"], "pretrained": r["pretrained"], "ratio": r["ratio"], "seed": r["seed"],
                  "class": str(c), "f1": v} for c, v in f1.items()]
    return pd.DataFrame(rows, columns=["aug", "pretrained", "ratio", "seed", "class", "f1"])


def baseline_of(arm: str, arms) -> str:
    """What an arm is paired against: real only ("0"); a synthetic arm used with a remedy, real only with that remedy
    ("1+balanced_sampler" -> "0+balanced_sampler") when the grid has it, so its gain is the synthetic images'."""
    p = parse_arm(arm)
    with_remedy = arm_label("0", remedy=p["remedy"])
    return with_remedy if is_synthetic(arm) and p["remedy"] != "none" and with_remedy in set(arms) else "0"


def paired_vs_baselines(df: pd.DataFrame, metric: str, setting: list[str], wilcoxon: bool = True) -> pd.DataFrame:
    """stats.paired_differences with each arm against its own baseline (`baseline_of`), a `baseline` column, and
    Holm's adjustment over all the rows together."""
    arms = list(dict.fromkeys(df["ratio"].astype(str)))
    groups: dict[str, list[str]] = {}
    for a in arms:
        if a != "0":
            groups.setdefault(baseline_of(a, arms), []).append(a)
    parts = [stats.paired_differences(df[df["ratio"].astype(str).isin([*members, base])], metric, setting=setting,
                                      baseline=base, wilcoxon=wilcoxon).assign(baseline=base)
             for base, members in groups.items()]
    parts = [p for p in parts if len(p)]
    if not parts:
        return stats.paired_differences(df, metric, setting=setting, wilcoxon=wilcoxon).assign(baseline="0")
    out = pd.concat(parts, ignore_index=True)
    out["p_holm"] = stats.holm(out["p_value"].tolist())
    return out


def per_class_gain(mix: pd.DataFrame, counts: dict[str, int]) -> pd.DataFrame:
    """Paired per-class F1 gain vs each arm's baseline (same seed and setting), with each class's real count."""
    long = per_class_long(mix)
    if long.empty:
        return pd.DataFrame(columns=[*SETTING, "class", "ratio", "n_pairs", "mean_diff", "ci_lo", "ci_hi", "count"])
    gain = paired_vs_baselines(long, "f1", setting=[*SETTING, "class"], wilcoxon=False)
    return gain.assign(count=gain["class"].map(lambda c: counts.get(str(c), np.nan)))


def size_correlation(gain: pd.DataFrame) -> pd.DataFrame:
    """Spearman rho between class size and gain per setting and ratio (negative: rare classes gain more)."""
    rows = []
    for key, g in gain.dropna(subset=["mean_diff", "count"]).groupby([*SETTING, "ratio"], sort=False):
        rho, p = (sps.spearmanr(g["count"], g["mean_diff"]) if g["count"].nunique() > 1 and len(g) > 2
                  else (math.nan, math.nan))
        rows.append({**dict(zip([*SETTING, "ratio"], key)), "classes": len(g), "spearman_rho": float(rho),
                     "p_value": float(p)})
    return pd.DataFrame(rows, columns=[*SETTING, "ratio", "classes", "spearman_rho", "p_value"])


def is_synthetic(arm: str) -> bool:
    """Whether an arm trains on synthetic images (any ratio but 0); real-data remedies are arms of ratio 0."""
    return parse_arm(arm)["ratio"] != "0"


def treatment_of(arm: str) -> str:
    """An arm without its generator seed: the setting the generator seeds are repetitions of."""
    return arm_label(**{**parse_arm(arm), "gan_seed": None})


def against_best_remedy(mix: pd.DataFrame, metric: str, with_plain: bool = False) -> pd.DataFrame:
    """Each synthetic arm minus the best real-data remedy of its setting (highest mean `metric` among the remedy
    arms, e.g. balanced sampler or weighted loss; with `with_plain`, real only too: the best real-data arm), paired on
    seed; an `against` column names that arm."""
    def real_arm(a: str) -> bool:
        return not is_synthetic(a) and (with_plain or parse_arm(a)["remedy"] != "none")

    remedies = mix.loc[mix["ratio"].map(real_arm).astype(bool)]
    out = []
    for key, rem in remedies.dropna(subset=[metric]).groupby(SETTING, sort=False):
        best = rem.groupby("ratio")[metric].mean().idxmax()
        same = (mix[SETTING] == pd.Series(dict(zip(SETTING, key)))).all(axis=1)
        part = mix.loc[same & mix["ratio"].map(lambda a: is_synthetic(a) or a == best).astype(bool)]
        out.append(stats.paired_differences(part, metric, setting=SETTING, baseline=best).assign(against=best))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=[*SETTING, "ratio", "n_pairs", "mean_diff", "ci_lo", "ci_hi", "p_value", "against"])


TAIL_CLASSES = 4  # issue 30's tail: the four rarest classes (frog, horse, ship, truck on the long-tailed CIFAR-10)


def tail_recall(ok: pd.DataFrame, counts: dict[str, int], k: int = TAIL_CLASSES) -> tuple[list[str], pd.DataFrame]:
    """The `k` rarest classes by real count, and each arm's test recall on them (mean over the classes, then a mean
    and t-interval over seeds): CAS cells (synthetic only: tail CAS) beside the mix arms. Cells from before per-class
    recall was recorded are left out."""
    tail = [c for c, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))[:k]]
    rows = []
    for _, r in ok.iterrows():
        raw = r.get("test_per_class_recall")
        if not isinstance(raw, str) or not tail:
            continue
        rec = json.loads(raw)
        if all(c in rec for c in tail):
            arm = "CAS (synthetic only)" if r["kind"] == "cas" else str(r["ratio"])
            if r["kind"] == "cas" and pd.notna(r.get("gan_seed")):
                arm += f"/g{int(r['gan_seed'])}"
            rows.append({"arm": arm, "aug": r["aug"], "pretrained": r["pretrained"], "seed": r["seed"],
                         "tail_recall": float(np.mean([rec[c] for c in tail]))})
    if not rows:
        return tail, pd.DataFrame(columns=["arm", "aug", "pretrained", "n", "mean", "ci_lo", "ci_hi"])
    df = pd.DataFrame(rows)
    out = [{"arm": arm, "aug": aug, "pretrained": pt, **stats.mean_ci(g["tail_recall"].tolist())}
           for (arm, aug, pt), g in df.groupby(["arm", "aug", "pretrained"], sort=False)]
    return tail, pd.DataFrame(out).sort_values("mean", ascending=False, kind="stable")
