"""summary.md, summary.json and plots from an ablation folder's results.csv (statistics in experiments.stats)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from common.atomic import atomic_path, write_json, write_text  # noqa: E402
from experiments import stats  # noqa: E402
from experiments.prepared import generators  # noqa: E402
from experiments.analysis import (SETTING, against_best_remedy, is_synthetic, load_results,  # noqa: E402
                                  paired_vs_baselines, per_class_gain, size_correlation, tail_recall, treatment_of)
from experiments.config import VERDICT_METRICS, AblationConfig  # noqa: E402
from experiments.grid import arms  # noqa: E402

METRICS = VERDICT_METRICS  # what every cell reports on the held-out test set


def write_report(folder: Path, cfg: AblationConfig, prepared: dict) -> dict:
    """Write summary.md, summary.json and plots/; return the report dict (with 'verdict_line')."""
    folder = Path(folder)
    df = load_results(folder)
    ok = df[df["status"] == "ok"] if len(df) else df
    mix, cas = ok[ok["kind"] == "mix"], ok[ok["kind"] == "cas"]
    metrics = [m for m in (*METRICS, "val_acc", "val_macro_f1") if m in ok]
    ratios = arms(cfg)
    order = {r: k for k, r in enumerate(ratios)}

    summary = stats.summarize(mix, by=[*SETTING, "ratio"], metrics=metrics)
    summary = summary.sort_values(by=[*SETTING, "ratio"], key=lambda s: s.map(order) if s.name == "ratio" else s,
                                  kind="stable")
    paired = {m: paired_vs_baselines(mix, m, setting=SETTING) for m in METRICS if m in mix}
    metric = cfg.metric if cfg.metric in paired else "test_acc"
    empty = pd.DataFrame(columns=["ratio", "mean_diff"])
    synthetic = paired.get(metric, empty)
    against = "ratio 0"
    if len(cfg.remedies) > 1 and metric in mix:
        # With real-data arms in the grid (a remedy, real only at equal cost), synthetic images must beat the best of
        # them, as the recommendation asks: a gain over a weaker baseline is not advice a user can act on.
        synthetic, against = against_best_remedy(mix, metric, with_plain=True), "the best real-data arm of its setting"
    synthetic = synthetic.loc[synthetic["ratio"].map(is_synthetic).astype(bool)]
    verdict = stats.verdict(synthetic, metric, SETTING,
                            treatment=synthetic["ratio"].map(treatment_of) if cfg.gan_seeds else None,
                            generators=len(cfg.gan_seeds or [None]), against=against)
    vs_remedy = ({m: against_best_remedy(mix, m) for m in METRICS if m in mix} if len(cfg.remedies) > 1 else {})
    cas_summary = stats.summarize(cas, by=SETTING, metrics=[m for m in METRICS if m in cas])
    tail, tail_df = tail_recall(ok, prepared.get("class_counts", {}))
    gain = per_class_gain(mix, prepared.get("class_counts", {}))
    corr = size_correlation(gain)
    quality = {label: generator_quality(g) for label, g in generators(prepared).items()}
    from experiments.recommend import job_seconds, recommend

    rec = recommend(mix, metric, job_seconds(folder), generators=len(cfg.gan_seeds or [None]))
    room = _headroom(folder)
    if room:  # the recommendation opens with what more real data could add at most
        rec = {**rec, "headroom": room["line"], "line": f"{room['line']}. {rec['line']}",
               "lines": [room["line"], *(rec.get("lines") or [rec["line"]])]}

    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    made = []
    for m in METRICS:
        if m in summary["metric"].values:
            made.append(plot_metric_vs_ratio(summary, cas_summary, m, ratios, plots / f"{m}_vs_ratio.png"))
    if verdict["best"] is not None and len(gain):
        made.append(plot_class_gain(gain, verdict["best"], ratios, plots / "per_class_gain_vs_size.png"))

    report = {"name": cfg.name, "verdict": verdict["verdict"], "verdict_line": verdict["line"],
              "verdict_rule": stats.VERDICT_RULE, "metric": metric,
              "cells": {"ok": int((df["status"] == "ok").sum()) if len(df) else 0,
                        "failed": int((df["status"] != "ok").sum()) if len(df) else 0},
              "fid": prepared.get("fid", {}), "fid_error": prepared.get("fid_error"),
              "filter_kept": prepared.get("filter_kept", {}),
              "generators": {label or "default": q for label, q in quality.items()},
              "vs_best_remedy": {m: p.to_dict("records") for m, p in vs_remedy.items()},
              "summary": summary.to_dict("records"), "paired": {m: p.to_dict("records") for m, p in paired.items()},
              "cas": cas_summary.to_dict("records"), "class_size_correlation": corr.to_dict("records"),
              "tail": {"classes": tail, "recall": tail_df.to_dict("records")},
              "plots": [str(p.relative_to(folder)) for p in made], "recommendation": rec, "headroom": room}
    write_json(folder / "summary.json", _clean(report))
    write_text(folder / "summary.md", render_markdown(cfg, prepared, df, summary, paired, verdict, cas_summary,
                                                      gain, corr, made, folder, vs_remedy, quality, rec,
                                                      (tail, tail_df), room))
    return report


def _headroom(folder: Path) -> dict | None:
    """The headroom stage's result (experiments.headroom), where the config ran it."""
    path = folder / "headroom.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def generator_quality(g: dict) -> dict:
    """One generator's scores beside each other: FID/KID, and variety/class from its synth folder's quality.json."""
    q = {}
    path = Path(g["synth"]) / "quality.json" if g.get("synth") else None
    if path is not None and path.is_file():
        full = json.loads(path.read_text(encoding="utf-8"))
        per = full.get("per_class", {})
        div = [r["diversity_ratio"] for r in per.values() if r.get("diversity_ratio") is not None]
        agree = [r["agreement"] for r in per.values() if r.get("agreement") is not None]
        cover = [r["coverage"] for r in per.values() if r.get("coverage") is not None]
        q = {"diversity_ratio_min": min(div, default=None),
             "diversity_ratio_mean": float(np.mean(div)) if div else None,
             "coverage_min": min(cover, default=None), "coverage_mean": float(np.mean(cover)) if cover else None,
             "agreement_min": min(agree, default=None), "agreement_mean": float(np.mean(agree)) if agree else None}
        ref = full.get("reference") or {}
        if ref:  # the balanced reference set's judge (gen.reference): it sees the rare classes as well
            q.update({f"reference_{k}": ref.get(k) for k in ("agreement_min", "agreement_mean", "coverage_min",
                                                              "coverage_mean")})
    fid = {k: v for k, v in (g.get("fid") or {}).items() if k in FID_SHOWN}
    return {"gan_run": g.get("gan_run"), "synth": g.get("synth"), **fid, **q, "fid_error": g.get("fid_error")}


FID_SHOWN = ("protocol", "extractor", "n_real", "n_fake", "fid", "kid", "kid_std")  # fid.json's bookkeeping left out


# --- plots ---

def _x(ratios: list[str]) -> dict[str, int]:
    # Categorical x: ratios are not evenly spaced and 'balance' has no number.
    return {r: k for k, r in enumerate(ratios)}


def plot_metric_vs_ratio(summary: pd.DataFrame, cas: pd.DataFrame, metric: str, ratios: list[str], path: Path) -> Path:
    """One panel per augmentation preset: mean over seeds vs ratio, 95% CI band, one line per pretrained value."""
    s = summary[summary["metric"] == metric]
    augs = list(dict.fromkeys(s["aug"]))
    wide = 1 + len(ratios) // 8  # many arms (filters x generator seeds) need room for their labels
    fig, axes = plt.subplots(1, len(augs), figsize=(4.2 * wide * len(augs), 3.4 + wide), squeeze=False, sharey=True)
    xs = _x(ratios)
    for ax, aug in zip(axes[0], augs):
        for pt, g in s[s["aug"] == aug].groupby("pretrained", sort=False):
            g = g.sort_values("ratio", key=lambda r: r.map(xs))
            x = g["ratio"].map(xs).to_numpy()
            line, = ax.plot(x, g["mean"], marker="o", label="pretrained" if pt else "from scratch")
            ax.fill_between(x, g["ci_lo"].astype(float), g["ci_hi"].astype(float), alpha=0.2, color=line.get_color())
        c = cas[(cas["metric"] == metric) & (cas["aug"] == aug)] if len(cas) else cas
        for _, r in c.iterrows():
            ax.axhline(r["mean"], ls="--", color="grey", lw=1, label=f"CAS (synthetic only, n={r['n']})")
        # many arms, or long names (0+balanced_softmax beside 0+epochs_x2), collide flat: slant them
        crowded = len(ratios) > 5 or sum(map(len, ratios)) > 24 * wide
        ax.set_xticks(range(len(ratios)), ratios, rotation=45 if crowded else 0, ha="right" if crowded else "center",
                      fontsize=8 if crowded else None)
        ax.set_title(f"aug: {aug}")
        ax.set_xlabel("arm (synthetic ratio @filter /generator seed;\n0+remedy: real images only)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{metric} (mean, 95% CI over seeds)")
    axes[0][-1].legend(fontsize=8)
    return _save(fig, path)


def plot_class_gain(gain: pd.DataFrame, best: dict, ratios: list[str], path: Path) -> Path:
    """Per-class F1 gain vs real class size (log x), one panel per preset and start (the verdict's best first), one
    colour per arm; the best arm's points are named."""
    g = gain.dropna(subset=["count"])
    settings = list(dict.fromkeys([(best["aug"], best["pretrained"]),
                                   *zip(g["aug"], g["pretrained"])]))
    fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 3.8), squeeze=False, sharey=True)
    for ax, (aug, pt) in zip(axes[0], settings):
        h_all = g[(g["aug"] == aug) & (g["pretrained"] == pt)]
        for r in [r for r in ratios if r in set(h_all["ratio"])]:
            h = h_all[h_all["ratio"] == r]
            yerr = np.nan_to_num(np.vstack([h["mean_diff"] - h["ci_lo"], h["ci_hi"] - h["mean_diff"]]).astype(float))
            ax.errorbar(h["count"], h["mean_diff"], yerr=yerr, fmt="o", capsize=2, alpha=0.8, label=f"arm {r}")
        for _, row in h_all[h_all["ratio"] == str(best["ratio"])].iterrows():
            ax.annotate(str(row["class"]), (row["count"], row["mean_diff"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.axhline(0, color="black", lw=0.8)
        if h_all["count"].nunique() > 1:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))  # 30, not 3×10^1
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("real training images in the class")
        ax.set_title(f"per-class gain (aug {aug}, {'pretrained' if pt else 'scratch'})")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test F1 gain vs ratio 0 (paired, 95% CI)")
    axes[0][-1].legend(fontsize=8)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path


# --- markdown ---

def _f(v, nd=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{nd}f}" if isinstance(v, (float, np.floating)) else str(v)


def _ci(r, key="mean", sign=False) -> str:
    fmt = "+.4f" if sign else ".4f"
    m = r[key]
    if m is None or math.isnan(m):
        return "–"
    if math.isnan(r["ci_lo"]):
        return f"{m:{fmt}} (no CI)"
    return f"{m:{fmt}} [{r['ci_lo']:{fmt}}, {r['ci_hi']:{fmt}}]"


def _p(v) -> str:
    return "–" if v is None or math.isnan(v) else (f"{v:.3g}" if v >= 1e-4 else f"{v:.1e}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def _pt(v) -> str:
    return "yes" if bool(v) else "no"


def render_markdown(cfg, prepared, df, summary, paired, verdict, cas, gain, corr, plots, folder, vs_remedy,
                    quality, rec: dict | None = None, tail=None, room: dict | None = None) -> str:
    counts = prepared.get("class_counts", {})
    n_cmp = max((len(p) for p in paired.values()), default=0)
    out = [f"# Ablation: {cfg.name}", ""]
    if room:
        out += [f"**{room['line']}**" + (f" ([plot]({room['plot']}))" if room.get("plot") else ""), ""]
    out += [f"**{verdict['line']}**", "",
           f"Rule: {stats.VERDICT_RULE}. Intervals are Student-t 95% CIs over seeds; differences are paired on "
           f"seed, augmentation preset and pretrained; p-values are two-sided paired t-tests (Wilcoxon beside; "
           f"Wilcoxon cannot go below p=0.25 with 3 seeds; Holm column adjusted for the {n_cmp} comparisons "
           f"per metric — the best of several settings is picked after the fact, so read its p with that in mind).",
           ""]

    out += ["## Setup", ""]
    if counts:
        out.append(f"- Real train: `{prepared.get('train')}` — {sum(counts.values())} images, {len(counts)} classes, "
                   f"{min(counts.values())}–{max(counts.values())} per class")
    out.append(f"- Real test (scored only at the end): `{prepared.get('test')}`")
    for label, g in generators(prepared).items():
        out.append(f"- Generator{' (GAN seed ' + label + ')' if label else ''}: `{g.get('gan_run')}`; "
                   f"synthetic images: `{g.get('synth')}`")
    out.append(f"- Classifier: {cfg.classifier.model}, {cfg.classifier.epochs} epochs, size {cfg.classifier.size}; "
               f"other train options: {cfg.classifier.options or 'none'}")
    if cfg.classifier.scratch and False in cfg.pretrained:
        r = cfg.classifier.recipe(False)
        out.append(f"- From-scratch cells: {r['model']}, {r['epochs']} epochs, size {r['size']}; other train options: "
                   f"{r['options'] or 'none'}")
    out.append(f"- Grid: ratios {cfg.ratios} × filter {cfg.filters}"
               + (f" × generator seeds {cfg.gan_seeds}" if cfg.gan_seeds else "")
               + (f", real-only remedies {cfg.remedies[1:]} beside ratio 0" if len(cfg.remedies) > 1 else "")
               + (f" × synthetic loss weights {cfg.weights}" if cfg.weights != ["1"] else "")
               + (f" × real-only last epochs {cfg.real_lasts}" if cfg.real_lasts != [0] else "")
               + (f" × remedies with synthetic {cfg.synth_remedies}" if cfg.synth_remedies != ["none"] else "")
               + f" × augs {cfg.augs} × pretrained {cfg.pretrained} × seeds {cfg.seeds} (an arm `1@f0.5` is ratio 1 "
               "of the images the real-data classifier gives ≥ 0.5 for their class, `1@ftop0.5` of each class's "
               "best-scored half; `:w0.5` synthetic images at loss weight 0.5; `:rl2` the last 2 epochs on real "
               "images only; `/g1` its generator seed; `0+class_weighted` real only with that remedy, "
               "`1+balanced_sampler` ratio 1 with it)")
    n_ok = int((df["status"] == "ok").sum()) if len(df) else 0
    out += [f"- Cells: {n_ok} finished, {len(df) - n_ok} failed (see below)", ""]

    out += ["## Generator quality beside its usefulness", ""]
    cas_rows = [[r["aug"], _pt(r["pretrained"]), r["metric"], r["n"], _ci(r)] for _, r in cas.iterrows()]
    keys = list(dict.fromkeys(k for q in quality.values() for k, v in q.items() if k in ("protocol", "extractor")
                              or isinstance(v, (int, float)) and not isinstance(v, bool)))
    if keys:
        out += ["Diversity ratio: mean pairwise distance of a class's synthetic images / its real images' (per class: "
                "min and mean); agreement: share of a class's synthetic images that a judge trained on the real "
                "images assigns to it (`synth`'s quality.json); reference_*: the same by a judge trained once on a "
                "balanced real set no arm trains on (data.prepare's reference_per_class).", ""]
        out.append(_table(["", *[f"GAN seed {lb}" if lb else "generator" for lb in quality]],
                          [[k, *[_f(q.get(k)) for q in quality.values()]] for k in keys]))
    for label, q in quality.items():
        if q.get("fid_error"):
            out.append(f"FID/KID{' (GAN seed ' + label + ')' if label else ''}: not measured — {q['fid_error']}")
    if not keys and not any(q.get("fid_error") for q in quality.values()):
        out.append("FID/KID: not measured.")
    for label, g in generators(prepared).items():
        for f, per_class in (g.get("filter_kept") or {}).items():
            kept, made = sum(k for k, _ in per_class.values()), sum(n for _, n in per_class.values())
            which = f" (GAN seed {label})" if label else ""
            rule = f"top {f[3:]} per class" if f.startswith("top") else f"≥ {f}"
            out += ["", f"Filter {rule}{which}: kept {kept}/{made} synthetic images ({kept / max(made, 1):.0%})."
                    + _short_stock(cfg.ratios, counts, per_class), ""]
            out.append(_table(["class", "kept", "generated"], [[c, k, n] for c, (k, n) in per_class.items()]))
    out += ["", "CAS (Classification Accuracy Score, Ravuri & Vinyals 2019): trained on synthetic images only, "
            "tested on the real test set.", ""]
    out += [_table(["aug", "pretrained", "metric", "n", "mean [95% CI]"], cas_rows) if cas_rows else "CAS: no cells.",
            ""]

    out += ["## Mean per setting", ""]
    metrics = list(dict.fromkeys(summary["metric"]))
    rows = []
    for key, g in summary.groupby([*SETTING, "ratio"], sort=False):
        by_m = {r["metric"]: r for _, r in g.iterrows()}
        rows.append([key[0], _pt(key[1]), key[2], int(g["n"].max()), *[_ci(by_m[m]) if m in by_m else "–"
                                                                       for m in metrics]])
    out += [_table(["aug", "pretrained", "ratio", "n", *[f"{m} [95% CI]" for m in metrics]], rows) if rows
            else "No finished cells.", ""]

    for m, p in paired.items():
        out += [f"## Paired difference vs ratio 0: {m}", "",
                "Each arm against real only (`0`); a synthetic arm used with a remedy (`1+balanced_sampler`) against "
                "real only with that remedy, so the difference is the synthetic images'.", ""]
        rows = [[r["aug"], _pt(r["pretrained"]), r["ratio"], r.get("baseline", "0"), r["n_pairs"],
                 _ci(r, "mean_diff", sign=True), _p(r["p_value"]), _p(r["p_wilcoxon"]), _p(r["p_holm"])]
                for _, r in p.iterrows()]
        out += [_table(["aug", "pretrained", "ratio", "vs", "pairs", "mean diff [95% CI]", "p (paired t)",
                        "p (Wilcoxon)", "p (Holm)"], rows) if rows else "No pairs.", ""]

    for m, p in (vs_remedy or {}).items():
        out += [f"## Synthetic vs the best real-data remedy: {m}", "",
                "Each synthetic arm minus the real-data arm (a remedy, or real only at equal cost) with the highest "
                "mean in its setting, paired on seed.", ""]
        rows = [[r["aug"], _pt(r["pretrained"]), r["ratio"], r["against"], r["n_pairs"],
                 _ci(r, "mean_diff", sign=True), _p(r["p_value"])] for _, r in p.iterrows()]
        out += [_table(["aug", "pretrained", "arm", "against", "pairs", "mean diff [95% CI]", "p (paired t)"], rows)
                if rows else "No pairs.", ""]

    out += ["## Do rare classes gain most?", ""]
    if len(corr):
        out += ["Spearman correlation between a class's real training count and its paired test-F1 gain "
                "(negative: rarer classes gain more).", ""]
        out += [_table(["aug", "pretrained", "ratio", "classes", "Spearman rho", "p"],
                       [[r["aug"], _pt(r["pretrained"]), r["ratio"], r["classes"], _f(r["spearman_rho"], 3),
                         _p(r["p_value"])] for _, r in corr.iterrows()]), ""]
        best = verdict.get("best")
        if best is not None:
            g = gain[(gain["aug"] == best["aug"]) & (gain["pretrained"] == best["pretrained"])
                     & (gain["ratio"] == str(best["ratio"]))].sort_values("count")
            out += [f"Per class at the best setting (ratio {best['ratio']}, aug {best['aug']}, "
                    f"pretrained {_pt(best['pretrained'])}):", ""]
            out += [_table(["class", "real images", "F1 gain [95% CI]", "pairs"],
                           [[r["class"], _f(r["count"], 0), _ci(r, "mean_diff", sign=True), r["n_pairs"]]
                            for _, r in g.iterrows()]), ""]
    else:
        out += ["No per-class F1 in the results.", ""]

    if tail is not None and len(tail[1]):
        rows = [[r["arm"], r["aug"], str(r["pretrained"]), str(r["n"]), _ci(r)] for _, r in tail[1].iterrows()]
        out += [f"## The rarest classes ({', '.join(tail[0])})", "",
                "Test recall on them, averaged over the classes, per seed; CAS rows: the classifier trained on the "
                "synthetic images alone (tail CAS, issue 30).", "",
                _table(["arm", "aug", "pretrained", "n", "recall [95% CI]"], rows), ""]
    if plots:
        out += ["## Plots", ""] + [f"![{p.stem}]({p.relative_to(folder)})" for p in plots] + [""]
    failed = df[df["status"] != "ok"] if len(df) else df
    if len(failed):
        rows = [[r["cell_id"], str(r["error"])[:200].replace("|", "/")] for _, r in failed.iterrows()]
        out += ["## Failed cells", "", _table(["cell", "error"], rows), ""]
    if rec:
        from experiments.recommend import RULE

        out += ["## Recommendation", "", f"**{rec['line']}**", "",
                f"Rule: {RULE}. Times are the wall seconds this ablation's jobs took where they ran (GAN and synth: "
                "jobs/*.result.json; classifier runs: the cells' mean).", ""]
    return "\n".join(out)


def _short_stock(ratios: list[str], counts: dict, per_class: dict) -> str:
    """Which ratios a filtered pool cannot fill: mixing caps a class at its stock, so those arms train on fewer
    synthetic images than their label says (and several ratios may train on the same images)."""
    from augment.mixing import quota_for

    short = []
    for r in (r for r in ratios if r != "0"):
        need = quota_for(counts, None, r)
        n = sum(1 for c, (k, _) in per_class.items() if k < need.get(c, 0))
        if n:
            short.append(f"{r} ({n} class{'es' if n > 1 else ''})")
    return (" Too few for ratio " + ", ".join(short) + ": mixing takes what was kept, so these filtered arms hold "
            "fewer synthetic images than their ratio says.") if short else ""


def _clean(o):
    """NaN -> None, numpy -> Python, for strict JSON."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (np.bool_, bool)):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return None if math.isnan(o) else float(o)
    return o
