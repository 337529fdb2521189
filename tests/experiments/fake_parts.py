"""Deterministic stand-ins for the parts' entry points, with their real signatures: each takes the part's own options
dataclass and reads its real field names, so a renamed option breaks these fakes (and the tests) as it would break
the ablation. Each call appends a line to $FAKE_CALLS. Results: baseline .60 + .01*seed; ratio 1 adds
.05 + .001*seed; balance adds .02; images of a second generator (GAN seed 1) add only .01*(seed-1) at any ratio;
the balanced sampler adds .08 (more than any synthetic arm), the weighted loss .01; CAS (synthetic only) .30; the rare class b gains most;
a headroom subset of n images loses .2/n; aug 'heavy' fails."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd


def _called(line: str) -> None:
    with open(os.environ["FAKE_CALLS"], "a") as f:
        f.write(line + "\n")


def train(opts) -> Path:
    _called(f"train data={opts.data.data} ratio={opts.ratio} balance={opts.balance} synth={opts.synth} "
            f"aug={opts.aug} seed={opts.seed} batch_size={opts.batch_size} test={opts.test_data} "
            f"balanced_sampler={opts.balanced_sampler} class_weighted={opts.class_weighted} "
            f"synth_weight={opts.synth_weight:g} real_last={opts.real_last} epochs={opts.epochs}")
    if opts.aug == "heavy":  # a real preset, so the config is valid; the fake trainer fails its cells
        raise RuntimeError("boom")
    ratio = "balance" if opts.balance else f"{opts.ratio or 0:g}"
    bonus = {"0": 0.0, "1": 0.05 + 0.001 * opts.seed, "0.5": 0.01, "2": 0.06, "balance": 0.02}[ratio]
    if ratio != "0" and "gan-seed1" in str(opts.synth):
        bonus = 0.01 * (opts.seed - 1)
    bonus += 0.08 * opts.balanced_sampler + 0.01 * opts.class_weighted
    bonus += 0.1 * (opts.synth_weight == 0.5) * (1 + 0.1 * opts.seed)  # the fake's best way to use synthetic images
    acc = 0.30 if opts.data.data.endswith("manifest.csv") else 0.60 + 0.01 * opts.seed + bonus
    if opts.data.data.endswith(".csv") and "headroom" in opts.data.data:  # a subset: fewer images, lower score
        acc -= 0.2 / len(pd.read_csv(opts.data.data))
    run = Path(opts.out) / f"{len(list(Path(opts.out).glob('*'))) if Path(opts.out).exists() else 0:05d}-fake"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({
        "best_epoch": 1, "val_acc": acc, "val_macro_f1": acc, "test_acc": acc, "test_macro_f1": acc - 0.1,
        "test_per_class_f1": {"a": acc - bonus / 2, "b": acc + bonus},
        "test_per_class_recall": {"a": acc, "b": acc / 2}, "run_dir": str(run)}))
    return run


def train_gan(opts) -> Path:
    _called(f"train-gan data={opts.data.data} steps={opts.steps} size={opts.size} seed={opts.seed} out={opts.out}")
    run = Path(opts.out) / "00000-fakegan"
    run.mkdir(parents=True)
    return run


def synth(opts):
    from common.progress import progress_bar

    _called(f"synth gan={opts.gan} n={opts.n} all={opts.all_classes} reference={opts.reference}")
    out = Path(opts.out)
    out.mkdir(parents=True)
    rows = []
    for c in ("a", "b"):  # a bar per class as the real synth has, over work of a few microseconds
        rows += [{"path": str(out / c / f"seed{i:04d}.png"), "label": c, "category": "", "source": "synthetic"}
                 for i in progress_bar(range(opts.n), desc=f"synth {c}", unit="image", leave=False)]
    df = pd.DataFrame(rows)
    df.to_csv(out / "manifest.csv", index=False)
    return df


def run_fid(opts) -> dict:
    _called(f"fid real={opts.real} fake={opts.fake} extractor={opts.extractor}")
    res = {"fid": 13.5 if "gan-seed1" in str(opts.out) else 12.5, "kid": 0.01, "extractor": "fake", "n_real": 5}
    Path(opts.out).write_text(json.dumps(res))
    return res
