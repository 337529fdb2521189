"""The recommendation an ablation ends with: the best setting for this dataset, synthetic or not, its gain over
real only and over the best real-data remedy (paired, with CIs), and what it costs in measured time.

A synthetic arm is recommended only when it beats the best real-data arm of its setting (real only, or the best
remedy) with a paired 95% CI above 0 for every generator seed: the generator is part of the treatment, and a user
who trains one GAN gets one seed. Otherwise the best real-data arm is recommended, and the line says what the best
synthetic arm would have cost for its (unproven) gain.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import stats
from experiments.analysis import SETTING, is_synthetic, treatment_of
from experiments.grid import parse_arm

RULE = ("recommend a synthetic arm only if, paired on seed against the best real-data arm of its setting (real only "
        "or the best remedy), its 95% CI is above 0 for every generator seed; otherwise the best real-data arm")


def job_seconds(folder: Path) -> dict[str, float]:
    """Wall seconds of each finished preparation job (jobs/<name>.result.json: train-gan-g0, synth-g0, ...)."""
    out = {}
    for p in sorted((Path(folder) / "jobs").glob("*.result.json")):
        try:
            r = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if r.get("status") == "ok" and r.get("seconds") is not None and not str(r.get("name", "")).startswith(
                ("mix-", "cas-")):
            out[str(r["name"])] = float(r["seconds"])
    return out


def _gan_tag(arm: str) -> str:
    g = parse_arm(arm)["gan_seed"]
    return "" if g is None else f"-g{g}"


class _Paired:
    """Paired differences (stats.paired_differences) of every arm against a baseline arm, computed once per baseline."""

    def __init__(self, mix: pd.DataFrame, metric: str):
        self.mix, self.metric, self.tables = mix, metric, {}

    def row(self, setting: tuple, arm: str, baseline: str) -> dict:
        """{'n_pairs', 'mean_diff', 'ci_lo', 'ci_hi', ...} of arm - baseline on seed within one setting."""
        if baseline not in self.tables:
            self.tables[baseline] = stats.paired_differences(self.mix, self.metric, SETTING, baseline=baseline,
                                                             wilcoxon=False).set_index([*SETTING, "ratio"])
        table = self.tables[baseline]
        key = (*setting, arm)
        return table.loc[key].to_dict() if key in table.index else {"n_pairs": 0, "ci_lo": math.nan}

    def ci_text(self, setting: tuple, arm: str, baseline: str) -> str:
        r = self.row(setting, arm, baseline)
        if not r["n_pairs"]:
            return "not measured"
        if math.isnan(r["ci_lo"]):
            return f"{r['mean_diff']:+.4f} (one pair, no CI)"
        return f"{r['mean_diff']:+.4f} [{r['ci_lo']:+.4f}, {r['ci_hi']:+.4f}]"

    def per_seed(self, setting: tuple, arms: list[str], baseline: str) -> str:
        """Paired gains of an arm's generator seeds over `baseline`: 'g0 +0.02 [+0.01, +0.03], g1 ...'."""
        return ", ".join((_gan_tag(a).lstrip("-") + " " if _gan_tag(a) else "") + self.ci_text(setting, a, baseline)
                         for a in arms)


def recommend(mix: pd.DataFrame, metric: str, seconds: dict[str, float] | None = None, generators: int = 1) -> dict:
    """{'line', 'setting', 'arm', 'synthetic', ...}: the best setting by `metric` under RULE, with its gains and cost.

    `mix` is the finished mix cells (analysis.load_results, kind mix), `seconds` the preparation jobs' wall times.
    """
    seconds = seconds or {}
    if metric not in mix or mix.empty:
        return {"line": f"Recommendation ({metric}): none — no finished cells.", "arm": None}
    ok = mix.dropna(subset=[metric])
    if ok.empty:
        return {"line": f"Recommendation ({metric}): none — no finished cells.", "arm": None}
    paired = _Paired(ok, metric)
    means = ok.groupby([*SETTING, "ratio"], sort=False)[metric].mean()
    time_of = ok.groupby([*SETTING, "ratio"], sort=False)["seconds"].mean() if "seconds" in ok else None
    best, candidates = None, []
    for setting, g in means.groupby(level=list(range(len(SETTING))), sort=False):
        arms = g.droplevel(list(range(len(SETTING))))
        real = arms[[not is_synthetic(a) for a in arms.index]]
        if real.empty or "0" not in real.index:
            continue
        best_real = real.idxmax()
        cand = {"setting": setting, "arm": best_real, "mean": float(real.max()), "synthetic": False,
                "best_real": best_real}
        synth = arms[[is_synthetic(a) for a in arms.index]]
        # each treatment (an arm without its generator seed) judged by its weakest generator seed against best_real
        proven, by_treatment = [], {}
        for a in synth.index:
            by_treatment.setdefault(treatment_of(a), []).append(a)
        for treat, members in by_treatment.items():
            lows = [paired.row(setting, a, best_real)["ci_lo"] for a in members]
            mean = float(np.mean([synth[a] for a in members]))
            cand.setdefault("treatments", []).append((treat, mean, members))
            # every generator seed finished and above the best real-data arm (a missing seed proves nothing)
            if len(members) >= generators and all(lo == lo and lo > 0 for lo in lows):
                proven.append((mean, treat, members))
        if proven:
            mean, treat, members = max(proven)
            cand.update(arm=treat, mean=mean, synthetic=True, members=members)
        candidates.append(cand)
        if best is None or cand["mean"] > best["mean"]:
            best = cand
    if best is None:
        return {"line": f"Recommendation ({metric}): none — no setting has finished real-only cells.", "arm": None}

    setting = dict(zip(SETTING, best["setting"]))
    where = f"aug {setting['aug']}, {'pretrained' if setting['pretrained'] else 'from scratch'}"
    real_only_base = "0"
    # plain tuples: .loc on the unsorted (grid-ordered) index warns of lexsort depth on a two-setting grid
    here = {key[-1]: m for key, m in means.items() if tuple(key[:-1]) == tuple(best["setting"])}
    remedies = [a for a in here if not is_synthetic(a) and a != "0"]
    best_remedy = max(remedies, key=here.get) if remedies else None

    def gains(arms: list[str]) -> list[str]:
        parts = [f"vs real only {paired.per_seed(best['setting'], arms, real_only_base)}"]
        if best_remedy and best_remedy not in arms:
            parts.append(f"vs the best remedy ({best_remedy}) {paired.per_seed(best['setting'], arms, best_remedy)}")
        return parts

    def cost(arms: list[str]) -> str:
        """GAN + synth (+ filter classifier) per generator, and the extra training per run over real only."""
        tags = sorted({_gan_tag(a) for a in arms})
        jobs = ["train-gan", "synth"] + (["filter-clf"] if any(parse_arm(a)["filter"] != "none" for a in arms) else [])
        timed = [j for j in jobs if any(f"{j}{t}" in seconds or j in seconds for t in tags)]
        prep = [sum(seconds.get(f"{j}{t}", seconds.get(j, 0.0)) for j in timed) for t in tags]
        if timed:
            text = f"{' + '.join(timed)} {np.mean(prep) / 60:.1f} min per generator"
            missing = [j for j in jobs if j not in timed]
            text += f" ({', '.join(missing)}: not timed here, e.g. a given gan.run)" if missing else ""
        else:
            text = "GAN and synthetic images: not timed here (a given gan.run / gan.synth)"
        if time_of is not None:
            t_arm = float(np.mean([time_of.get((*best["setting"], a), math.nan) for a in arms]))
            t_real = float(time_of.get((*best["setting"], "0"), math.nan))
            if not (math.isnan(t_arm) or math.isnan(t_real)):
                text += f", then {t_arm / 60:.1f} min per classifier run instead of {t_real / 60:.1f}"
                if t_real >= 1:  # a ratio of sub-second runs says nothing
                    text += f" ({t_arm / t_real:.1f}x)"
        return text

    head = f"Recommendation ({metric}): "
    if best["synthetic"]:
        members = best["members"]
        parts = [f"{head}use synthetic images — {best['arm']} ({where}), mean {best['mean']:.4f}", *gains(members),
                 f"cost: {cost(members)}"]
    else:
        pays_elsewhere = any(c["synthetic"] for c in candidates if c is not best)
        verdict = "the best setting uses no synthetic images" if pays_elsewhere else \
            "no synthetic setting is worth its cost here"
        parts = [f"{head}{verdict} — train "
                 f"{'real only' if best['arm'] == '0' else best['arm']} ({where}), mean {best['mean']:.4f}",
                 *(gains([best["arm"]]) if best["arm"] != "0" else [])]
        treatments = best.get("treatments") or []
        if treatments:
            treat, mean, members = max(treatments, key=lambda t: t[1])
            parts += [f"best synthetic arm {treat}: mean {mean:.4f}, vs {best['best_real']} "
                      f"{paired.per_seed(best['setting'], members, best['best_real'])} (not above 0 for every "
                      "generator seed)", f"its cost: {cost(members)}"]
    # a setting the user may be held to (no pretrained weights: CPU-only grading) where synthetic images do pay
    for other in candidates:
        if other is not best and other["synthetic"]:
            o = dict(zip(SETTING, other["setting"]))
            gains_o = paired.per_seed(other["setting"], other["members"], other["best_real"])
            parts.append(f"{'pretrained' if o['pretrained'] else 'from scratch'} (aug {o['aug']}) synthetic images do "
                         f"pay: {other['arm']}, mean {other['mean']:.4f}, vs {other['best_real']} {gains_o}")
    line = "; ".join(parts) + "."
    return {"line": line, "lines": parts, "rule": RULE, "setting": setting, "arm": best["arm"], "synthetic": best["synthetic"],
            "mean": best["mean"], "best_remedy": best_remedy}
