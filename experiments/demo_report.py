"""The demo's one report (report.md with images): data, GAN training, real vs synthetic, FID/KID, ablation, verdict."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from augment.images import load_rgb
from augment.manifest import load_manifest
from augment.plots import image_grid, plt, save_figure
from common.atomic import read_jsonl, write_text
from experiments.prepared import generators
from experiments.config import VERDICT_METRICS
from experiments.report import generator_quality

SCORE_KEYS = {"kid": "KID", "fid": "FID"}  # the flat keys of gen.metrics results


def real_vs_synthetic_grid(train: str | Path, synth: str | Path, path: Path, per_side: int = 6, seed: int = 0) -> Path:
    """One row per class: `per_side` real images, then `per_side` synthetic ones."""
    rng = np.random.default_rng(seed)
    real = load_manifest(train)
    fake = pd.read_csv(Path(synth) / "manifest.csv", dtype=str)
    rows, titles = [], []
    for cls in sorted(real["label"].unique(), key=lambda s: (len(s), s)):
        r = real.loc[real["label"] == cls, "path"].tolist()
        f = fake.loc[fake["label"] == cls, "path"].tolist()
        pick = lambda xs: [xs[i] for i in rng.choice(len(xs), size=min(per_side, len(xs)), replace=False)]
        rows.append([load_rgb(p) for p in pick(r)] + [load_rgb(p) for p in pick(f)])
        titles.append(f"{cls} ({len(r)} real)")
    cols = [f"real {i + 1}" for i in range(per_side)] + [f"synthetic {i + 1}" for i in range(per_side)]
    return save_figure(image_grid(rows, row_titles=titles, col_titles=cols, cell=0.9,
                                  title="real (left) vs synthetic (right), per class"), path)


def gan_score_curves(gan_run: str | Path, path: Path) -> Path | None:
    """KID/FID against training step from the run's metric-*.jsonl; None when the run was never scored."""
    series = {}
    for f in sorted(Path(gan_run).glob("metric-*.jsonl")):
        for row in read_jsonl(f):
            res = row.get("result", {})
            for key, name in SCORE_KEYS.items():
                if isinstance(res.get(key), (int, float)):
                    series.setdefault(f"{name} ({row.get('extractor')})", []).append((row["step"], res[key]))
    if not series:
        return None
    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.2), squeeze=False)
    for ax, (name, pts) in zip(axes[0], sorted(series.items())):
        steps, vals = zip(*sorted(pts))
        ax.plot(steps, vals, marker="o")
        ax.set_xlabel("generator step")
        ax.set_title(f"{name}, lower is better")
    return save_figure(fig, path)


def _rel(p: str | Path, start: Path) -> str:
    return os.path.relpath(p, start).replace(os.sep, "/")


def _last_fakes(gan_run: Path) -> Path | None:
    fakes = sorted(gan_run.glob("fakes*.png"))
    return fakes[-1] if fakes else None


def write_demo_report(out: Path, ablation: Path, eda: Path, paths: dict) -> Path:
    """Write out/report.md from the demo's outputs; return its path."""
    out, ablation = Path(out), Path(ablation)
    prepared = json.loads((ablation / "prepared.json").read_text(encoding="utf-8"))
    summary = json.loads((ablation / "summary.json").read_text(encoding="utf-8"))
    eda_summary = json.loads((eda / "summary.json").read_text(encoding="utf-8"))
    first = next(iter(generators(prepared).values()))  # the demo trains one; an ablation with gan_seeds: the first
    gan_run, synth = Path(first["gan_run"]), first["synth"]
    figs = out / "report_figures"
    grid = real_vs_synthetic_grid(paths["train"], synth, figs / "real_vs_synthetic.png")
    curves = gan_score_curves(gan_run, figs / "gan_scores.png")
    last = _last_fakes(gan_run)
    img = lambda p, alt: f"![{alt}]({_rel(p, out)})"

    counts = eda_summary["counts_per_class"]
    lines = [
        "# SynthMix demo report",
        "",
        f"**{summary['verdict_line']}**",
        "",
        f"Data: {eda_summary['num_images']} training digits in {eda_summary['num_classes']} classes "
        f"(imbalance ratio {eda_summary['imbalance_ratio']:.0f}), a held-out real test set "
        f"(`{paths['test']}`). Everything below was produced by `make demo`; rerunning it reuses finished stages.",
        "",
        "## 1. The data",
        "",
        img(eda / "class_balance.png", "class balance"),
        "",
        "| class | " + " | ".join(counts) + " |",
        "| --- | " + " | ".join("---" for _ in counts) + " |",
        "| images | " + " | ".join(str(v) for v in counts.values()) + " |",
        "",
        img(eda / "samples.png", "samples"),
        "",
        "Augmentation preset used by the classifiers:",
        "",
        img(eda / "augment_preview.png", "augmentation preview"),
        "",
        "## 2. The conditional GAN",
        "",
        f"Run folder: `{gan_run}` (config.json, stats.jsonl, checkpoints).",
        "",
        img(gan_run / "losses.png", "GAN losses"),
        "",
    ]
    if curves:
        lines += ["Generator quality during training (features of EfficientNet-Lite0: fast on CPU, not comparable "
                  "with Inception FID):", "", img(curves, "KID/FID over steps"), ""]
    if last:
        lines += [f"Fixed-noise samples at the last snapshot (`{last.name}`), one row per class:", "",
                  img(last, "fakes"), ""]
    lines += ["## 3. Real vs synthetic, per class", "", img(grid, "real vs synthetic"), ""]
    lines += _quality_section(summary, first)
    lines += ["## 5. Does synthetic data help? (the ablation)", "",
              f"Full tables, p-values and CAS: [`{_rel(ablation / 'summary.md', out)}`]"
              f"({_rel(ablation / 'summary.md', out)}).", ""]
    lines += [img(ablation / p, Path(p).stem) + "\n" for p in summary.get("plots", [])]
    cas = {r["metric"]: r for r in summary.get("cas", [])}
    if "test_acc" in cas:
        c = cas["test_acc"]
        lines += [f"CAS (a classifier trained on synthetic images only, tested on the real test set): test accuracy "
                  f"{_num(c['mean'], 3)} [{_num(c['ci_lo'], 3)}, {_num(c['ci_hi'], 3)}] over {c['n']} seeds (chance "
                  f"{1 / max(len(counts), 1):.2f}).", ""]
    lines += [_summary_table(summary), "", f"**{summary['verdict_line']}**", "",
              f"_Rule: {summary.get('verdict_rule', '')}_", ""]
    rec = summary.get("recommendation") or {}
    if rec.get("line"):
        lines += ["## 6. What to do with this dataset", "", f"**{rec['line']}**", "", f"_Rule: {rec.get('rule', '')}_",
                  ""]
    return write_text(out / "report.md", "\n".join(lines))


QUALITY_ROWS = {"diversity_ratio_min": "diversity / real, worst class",
                "diversity_ratio_mean": "diversity / real, mean",
                "coverage_min": "coverage of the reals, worst class", "coverage_mean": "coverage of the reals, mean",
                "agreement_min": "agreement, worst class", "agreement_mean": "agreement, mean"}


def _quality_section(summary: dict, generator: dict) -> list[str]:
    """FID/KID beside the generator's variety (diversity / the reals') and class (judge agreement): one table, then
    per class."""
    fid = {k: v for k, v in (summary.get("fid") or {}).items()
           if k in ("protocol", "extractor", "n_real", "n_fake", *SCORE_KEYS)}
    q = generator_quality(generator)
    rows = [(k, v) for k, v in fid.items()] + [(name, q[k]) for k, name in QUALITY_ROWS.items() if q.get(k) is not None]
    lines = ["## 4. Generator quality: FID/KID beside variety and class", ""]
    if summary.get("fid_error"):
        lines += [f"FID/KID failed: {summary['fid_error']}", ""]
    if rows:
        lines += ["| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in rows] + [""]
    return lines + _quality_lines(Path(generator["synth"]) / "quality.json")


def _quality_lines(path: Path) -> list[str]:
    """Variety (diversity of the synthetic images / the reals') and class (judge agreement) per class."""
    if not path.is_file():
        return []
    q = json.loads(path.read_text(encoding="utf-8"))
    lines = ["Variety and class of the synthetic images (`synth`'s quality.json): diversity is the mean pairwise "
             "distance of a class's images, beside the real images'; agreement is the share a small CNN trained on "
             "the real digits (never on fakes) assigns to the class"
             + (f" (its accuracy on held-out real digits: {q['judge_real_acc']:.2f})" if q.get("judge_real_acc")
                is not None else "") + "; coverage is the share of real digits with a synthetic one among their 5 "
             "nearest neighbours in that CNN's features (noise cannot fake it).", "",
             "| class | diversity | real | ratio | coverage | agreement |", "| --- | --- | --- | --- | --- | --- |"]
    for c, r in q["per_class"].items():
        lines.append(f"| {c} | {r['diversity']:.3f} | {_num(r.get('real_diversity'), 3)} | "
                     f"{_num(r.get('diversity_ratio'), 2)} | {_num(r.get('coverage'), 2)} | "
                     f"{_num(r.get('agreement'), 2)} |")
    return lines + [""]


def _summary_table(summary: dict) -> str:
    """Mean ± 95% CI of test accuracy and macro-F1 per ratio, as Markdown."""
    rows = [r for r in summary.get("summary", []) if r.get("metric") in VERDICT_METRICS]
    if not rows:
        return "_No finished cells._"
    out = ["| ratio | aug | pretrained | metric | mean | 95% CI | seeds |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        out.append(f"| {r['ratio']} | {r['aug']} | {r['pretrained']} | {r['metric']} | {_num(r['mean'], 4)} | "
                   f"[{_num(r['ci_lo'], 4)}, {_num(r['ci_hi'], 4)}] | {r['n']} |")
    return "\n".join(out)


def _num(v, digits: int) -> str:
    """A number to `digits` decimals; '–' for the missing CI of a setting with one finished seed."""
    return "–" if v is None or v != v else f"{v:.{digits}f}"
