"""The demo's report: every section and image it links exists, the verdict leads, scores become a curve."""
import json
import re
from pathlib import Path

import pandas as pd
from PIL import Image

from common.atomic import append_jsonl
from experiments.demo_report import gan_score_curves, write_demo_report
from tests.helpers import write_image


def _fake_outputs(tmp_path):
    """The files a finished demo leaves: EDA, a scored GAN run, a synth folder, an ablation summary."""
    train = tmp_path / "train"
    for k, (cls, n) in enumerate({"0": 5, "1": 3}.items()):
        for i in range(n):
            write_image(train / cls / f"{i}.png", size=(8, 8), seed=10 * k + i)
    synth = tmp_path / "synth"
    rows = []
    for cls in ("0", "1"):
        for s in range(4):
            p = write_image(synth / cls / f"seed{s:04d}.png", size=(8, 8), seed=100 + s)
            rows.append({"path": str(p), "label": cls, "source": "synthetic", "seed": s})
    pd.DataFrame(rows).to_csv(synth / "manifest.csv", index=False)
    gan = tmp_path / "gan" / "00000-cgan"
    for name in ("losses.png", "fakes000000.png", "fakes000400.png"):
        write_image(gan / name, size=(20, 20))
    for step, kid in ((200, 0.30), (400, 0.12)):
        append_jsonl(gan / "metric-kid_cls_lite0.jsonl", {"step": step, "extractor": "effnet-lite0", "value": kid,
                     "result": {"kid": kid, "fid": 100 * kid}})
    eda = tmp_path / "eda"
    for name in ("class_balance.png", "samples.png", "augment_preview.png"):
        write_image(eda / name, size=(20, 20))
    (eda / "summary.json").write_text(json.dumps({"num_images": 8, "num_classes": 2, "imbalance_ratio": 5 / 3,
                                                  "counts_per_class": {"0": 5, "1": 3}}))
    abl = tmp_path / "ablate-demo"
    write_image(abl / "plots" / "test_acc_vs_ratio.png", size=(20, 20))
    (abl / "summary.md").write_text("# summary\n")
    (abl / "prepared.json").write_text(json.dumps({"gan_run": str(gan), "synth": str(synth)}))
    (abl / "summary.json").write_text(json.dumps({
        "verdict_line": "Synthetic data made no measurable difference to test_acc.", "verdict_rule": "CI rule",
        "fid": {"protocol": "fid_lite0", "kid": 0.1, "fid": 12.5},
        "cas": [{"metric": "test_acc", "mean": 0.5, "ci_lo": 0.4, "ci_hi": 0.6, "n": 3}],
        "plots": ["plots/test_acc_vs_ratio.png"],
        "summary": [{"ratio": "0", "aug": "basic", "pretrained": False, "metric": "test_acc", "mean": 0.9,
                     "ci_lo": 0.85, "ci_hi": 0.95, "n": 3}]}))
    return {"train": str(train), "test": str(train)}, abl, eda


def test_report_links_only_existing_images_and_leads_with_the_verdict(tmp_path):
    paths, abl, eda = _fake_outputs(tmp_path)
    out = tmp_path
    report = write_demo_report(out, abl, eda, paths)
    text = report.read_text()
    assert text.splitlines()[2].startswith("**Synthetic data made no measurable difference")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) >= 8
    for link in links:
        assert (out / link).is_file(), link
    assert "gan_scores.png" in text and "| fid | 12.5 |" in text and "test accuracy 0.500 [0.400, 0.600]" in text
    assert "fakes000400.png" in text and "| 0 | basic | False | test_acc | 0.9000 | [0.8500, 0.9500] | 3 |" in text
    with Image.open(out / "report_figures" / "real_vs_synthetic.png") as im:
        assert im.format == "PNG"


def test_score_curves_need_scores(tmp_path):
    assert gan_score_curves(tmp_path, tmp_path / "c.png") is None
    _fake_outputs(tmp_path)
    assert gan_score_curves(tmp_path / "gan" / "00000-cgan", tmp_path / "c.png").is_file()


def test_report_survives_a_setting_with_one_seed(tmp_path):
    paths, abl, eda = _fake_outputs(tmp_path)
    summary = json.loads((abl / "summary.json").read_text())
    summary["summary"][0].update(ci_lo=None, ci_hi=None, n=1)
    summary["cas"][0].update(ci_lo=None, ci_hi=None, n=1)
    (abl / "summary.json").write_text(json.dumps(summary))
    text = write_demo_report(tmp_path, abl, eda, paths).read_text()
    assert "| 0.9000 | [–, –] | 1 |" in text


def test_report_puts_diversity_and_agreement_beside_fid(tmp_path):
    paths, abl, eda = _fake_outputs(tmp_path)
    synth = Path(json.loads((abl / "prepared.json").read_text())["synth"])
    (synth / "quality.json").write_text(json.dumps({"judge_real_acc": 0.9, "per_class": {
        "0": {"diversity": 0.5, "real_diversity": 0.6, "diversity_ratio": 0.8, "agreement": 0.9, "coverage": 0.6},
        "1": {"diversity": 0.2, "real_diversity": 0.5, "diversity_ratio": 0.4, "agreement": 0.5, "coverage": 0.2}}}))
    text = write_demo_report(tmp_path, abl, eda, paths).read_text()
    section = text.split("## 4.")[1].split("\n## ")[0]  # one section, one table: FID/KID then variety and class
    table = [ln for ln in section.splitlines() if ln.startswith("| ")]
    assert "| fid | 12.5 |" in table and "| diversity / real, worst class | 0.4 |" in table
    assert "| agreement, mean | 0.7 |" in table and "| coverage of the reals, worst class | 0.2 |" in table
    assert "| 1 | 0.200 | 0.500 | 0.40 | 0.20 | 0.50 |" in section  # and per class below it
