"""Benchmark (not a test): SynthMix's conditional GANs vs an independent plain-PyTorch cDCGAN, same time budget.

Trainers (`--trainers`, comma list; each gets the same wall-clock training budget, batch and width):
  synthmix:<g_cond>[:<d_arch>[:k=v+k=v]]
                                train-gan itself (e.g. synthmix:shared, synthmix:cbn, synthmix:shared:projected,
                                synthmix:shared:dcgan:class_loss=ac+d_steps=4+diffaug=translation/cutout: any
                                GanOptions fields, `/` standing for `,` inside a value)
  legacy                        train-gan with the generator SynthMix had before format 2 (class embedding beside z),
                                for the record; built here, since the product can no longer load it
  baseline                      a minimal conditional DCGAN written directly in PyTorch with its own networks and
                                nothing of SynthMix's (the classic recipe: BN discriminator with the label as an
                                input plane, BCE, Adam 2e-4/0.5, label embedding into G's input, uniform batches)
  baseline:matched              the baseline at the width whose MACs per training step come closest to the first
                                synthmix trainer's ("same cost" beside "same width")

Every trainer's MACs per training step (all its D steps and the G step, forward and backward, frozen features
included; torch.utils.flop_counter) and its G's and D's forward MMAC per image are in its row.

Each trainer is scored the same way: per-class diversity of 256 fakes / the reals' (gen.quality), classifier
agreement and coverage/density in the judge's features (gen.judge, gen.variety: one judge trained on the reals
once and shared by every trainer), and FID/KID of
`--score-n` fakes (classes in equal shares) against all the training reals with `--extractor` (inception =
standard FID; never judge a projected-D run by effnet-lite0, its own eyes), and against the test images too where
`--data` has them (`fid_test`, `kid_test`). `--cas-seeds N` adds CAS: the ablation's CAS cell (CAS_CONFIG: Lite0
ImageNet at 32 px, as in issue 19) trained on `--cas-per-class` fakes per class, tested on the real test set.

    .venv/bin/python bench/bench_gan.py --data cifar500 --trainers synthmix:shared,baseline --budget-s 1200 \
        --extractor inception --score-n 5000 --out /tmp/bench-gan

`--data` is a class-per-folder dir, `cifar500` / `cifar100` (CIFAR-10, 500 or 100 per class, seeded, from
../shared/data), `cifar500lt` (the long-tail grid's 500 -> 5; its tail CAS over the 4 rarest classes, `--tail`, and
every CIFAR set's reference judge on 500 per class outside it, issue 30) or `mnist100`
(the embedded digits, 100 per class). One JSON per trainer in --out, and a table on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.paths import cache_root  # noqa: E402
from experiments.data_prep import prepare_data  # noqa: E402


def resolve_data(name: str) -> tuple[Path, Path | None]:
    """The training folder of `--data` and its test folder (None where it has none)."""
    if name in ("cifar500", "cifar100"):
        made = prepare_data({"kind": "cifar10_subset", "per_class": int(name[5:]), "seed": 0})
        return Path(made["train"]), Path(made["test"])
    if name == "cifar500lt":  # the long-tail grid's set: 500 of airplane down to 5 of truck
        made = prepare_data({"kind": "cifar10_subset", "per_class": 500, "imbalance": 100, "seed": 0})
        return Path(made["train"]), Path(made["test"])
    if name == "mnist100":
        prepare_data({"kind": "demo"})  # exports all 5,000 digits once
        full = cache_root() / "mnist-demo" / "all"
        out = cache_root() / "mnist-demo" / "per100"
        if not out.exists():
            import shutil

            for d in sorted(p for p in full.iterdir() if p.is_dir()):
                (out / d.name).mkdir(parents=True, exist_ok=True)
                for f in sorted(d.iterdir())[:100]:
                    shutil.copy(f, out / d.name / f.name)
        return out, None
    return Path(name), None


# --- the independent baseline: nothing below imports SynthMix ----------------------------------------------------

class BaselineG(nn.Module):
    """z (nz) + label embedding -> ConvTranspose stack (BN, ReLU) -> tanh, 32 px."""

    def __init__(self, nz: int, ngf: int, num_classes: int):
        super().__init__()
        self.nz = nz
        self.label = nn.Embedding(num_classes, num_classes)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz + num_classes, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z, y):
        return self.net(torch.cat([z, self.label(y)], 1)[:, :, None, None])


class BaselineD(nn.Module):
    """image + label plane (embedding reshaped to 32x32) -> Conv stack (BN, LeakyReLU 0.2) -> logit."""

    def __init__(self, ndf: int, num_classes: int):
        super().__init__()
        self.label = nn.Embedding(num_classes, 32 * 32)
        self.net = nn.Sequential(
            nn.Conv2d(4, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False))

    def forward(self, x, y):
        return self.net(torch.cat([x, self.label(y).view(-1, 1, 32, 32)], 1)).flatten()


def _dcgan_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def baseline_step(G, D, og, od, bce, x, y, nz: int) -> None:
    """One D step and one G step of the classic loop."""
    ones, zeros = torch.ones(len(x), device=x.device), torch.zeros(len(x), device=x.device)
    fake = G(torch.randn(len(x), nz, device=x.device), y)
    loss_d = bce(D(x, y), ones) + bce(D(fake.detach(), y), zeros)
    od.zero_grad()
    loss_d.backward()
    od.step()
    loss_g = bce(D(fake, y), ones)
    og.zero_grad()
    loss_g.backward()
    og.step()


def baseline_macs(width: int, batch: int, num_classes: int) -> dict:
    """MACs of one training step, and of G's and D's forward per image, of the baseline at `width`."""
    torch.manual_seed(0)
    G, D = BaselineG(100, width, num_classes), BaselineD(width, num_classes)
    og, od = torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)
    x, y = torch.rand(batch, 3, 32, 32) * 2 - 1, torch.arange(batch) % num_classes
    with torch.no_grad():
        g1 = count_macs(lambda: G(torch.randn(1, 100), y[:1]))
        d1 = count_macs(lambda: D(x[:1], y[:1]))
    return {"macs_per_step": count_macs(lambda: baseline_step(G, D, og, od, nn.BCEWithLogitsLoss(), x, y, 100)),
            "g_mmac_per_image": round(g1 / 1e6, 2), "d_mmac_per_image": round(d1 / 1e6, 2)}


def matched_width(target_macs: int, batch: int, num_classes: int) -> tuple[int, dict]:
    """The baseline width whose MACs per training step come closest to `target_macs` ("same cost")."""
    best = None
    for w in range(8, 257, 4):
        m = baseline_macs(w, batch, num_classes)
        if best is None or abs(m["macs_per_step"] - target_macs) < abs(best[1]["macs_per_step"] - target_macs):
            best = (w, m)
        if m["macs_per_step"] > target_macs:
            break
    return best


def count_macs(fn) -> int:
    """Multiply-accumulates of the matmuls and convolutions `fn` runs, forward and backward (torch's counter)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        fn()
    return fc.get_total_flops() // 2


def train_baseline(images: torch.Tensor, targets: torch.Tensor, num_classes: int, width: int, batch: int,
                   budget_s: float, seed: int, device: str):
    """The classic loop on uint8 images already in memory; returns (G, steps, seconds)."""
    torch.manual_seed(seed)
    nz = 100
    G, D = BaselineG(nz, width, num_classes).to(device), BaselineD(width, num_classes).to(device)
    G.apply(_dcgan_init)
    D.apply(_dcgan_init)
    og = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    x_all = images.to(device).float().div(127.5).sub(1.0)
    y_all = targets.to(device)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget_s:
        idx = torch.randint(0, len(x_all), (batch,), device=device)
        baseline_step(G, D, og, od, bce, x_all[idx], y_all[idx], nz)
        steps += 1
        if device == "cuda" and steps % 50 == 0:
            torch.cuda.synchronize()
    return G.eval(), steps, time.perf_counter() - t0


# --- SynthMix's generator before format 2, for the record -------------------------------------------------------

def legacy_builder():
    """build_generator for the pre-fix design: conditional BN plus a class embedding as wide as z beside z."""
    from gen.nets.dcgan_base import DCGANGenerator

    class LegacyG(DCGANGenerator):
        def __init__(self, size, nz, ngf, num_classes):
            super().__init__(size, nz, ngf, num_classes, "cbn")
            self.embed = nn.Embedding(num_classes, nz)
            self.fc = nn.Linear(2 * nz, self.fc.out_features)

        def forward(self, z, y=None):
            return super().forward(torch.cat([z, self.embed(y)], 1), y)

    def build(size, nz, ngf, num_classes, cond="shared"):
        g = LegacyG(size, nz, ngf, num_classes)
        for m in g.modules():  # the old init: N(0, 0.02) convs/linears, the embedding N(0, 1) as nn.Embedding's
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)
        return g

    return build


# --- scoring ------------------------------------------------------------------------------------------------------

def reference_set(name: str) -> Path | None:
    """A balanced real set outside --data's images for the reference judge (gen.reference), where one exists."""
    if name not in ("cifar500lt", "cifar100", "cifar500"):
        return None
    per_class, imbalance = (500, 100) if name == "cifar500lt" else (int(name[5:]), 1)
    made = prepare_data({"kind": "cifar10_subset", "per_class": per_class, "imbalance": imbalance, "seed": 0,
                         "reference_per_class": 500})
    return Path(made["reference"])


def measure(sample, names, reals, judge, extractor, score_n, seed, device, test_reals=None, fakes=None,
            reference: Path | None = None) -> dict:
    """Diversity ratio and agreement (gen.quality), FID/KID (gen.metrics) of `sample(k, n) -> uint8` against the
    training reals and, given `test_reals`, against the test images too (`fid_test`, `kid_test`). Given `fakes`
    ({class: PNG paths}, from write_fakes), FID/KID score the first score_n / classes of each class from there:
    their features are cached, so the second reference set costs no second pass of the extractor."""
    from gen.data import to_float
    from gen.metrics import score, score_generator
    from gen.quality import MAX_PER_CLASS, class_quality
    from gen.snapshots import mean_pairwise_distance

    real_div = {c: mean_pairwise_distance(to_float(reals[c][:MAX_PER_CLASS])) for c in names}
    fake_q = {c: sample(k, MAX_PER_CLASS) for k, c in enumerate(names)}
    q = class_quality(fake_q, judge[:3], real_div, judge[3])
    out = {"diversity_ratio_min": q["diversity_ratio_min"], "diversity_ratio_mean": q["diversity_ratio_mean"],
           "coverage_min": q.get("coverage_min"), "coverage_mean": q.get("coverage_mean"),
           "agreement_mean": q["agreement_mean"], "agreement_min": min(r["agreement"] for r in q["per_class"].values()),
           "per_class": q["per_class"]}
    if reference is not None:  # every class judged as well as the common ones (issue 30)
        from gen.reference import reference_judge, reference_quality

        judge_ref = reference_judge(str(reference), int(fake_q[names[0]].shape[-1]), names, cache_root())
        ref = reference_quality(fake_q, judge_ref, str(reference))
        out.update({f"reference_{k}": ref[k] for k in ("agreement_min", "agreement_mean", "coverage_min",
                                                        "coverage_mean")},
                   reference_per_class=ref["per_class"])
    if score_n:
        kw = dict(class_names=names, metrics=("fid", "kid"), extractor=extractor, n=score_n, seed=seed,
                  device=device, dtype="float32", progress=False)
        if fakes is not None:
            share = {c: fakes[c][:score_n // len(names)] for c in names}

            def run(against):
                return score(against, share, **kw)
        else:
            def run(against):
                return score_generator(sample, against, **kw)
        s = run(reals)
        out.update(fid=s["fid"], kid=s["kid"], protocol=s["protocol"], n_fake=s["n_fake"], n_real=s["n_real"])
        if test_reals is not None:
            t = run(test_reals)
            out.update(fid_test=t["fid"], kid_test=t["kid"], n_real_test=t["n_real"])
    return out


def write_fakes(sample, names: list[str], per_class: int, folder: Path) -> dict[str, list[str]]:
    """`per_class` fakes of every class as PNGs under `folder`, with the manifest.csv a CAS cell trains on;
    returns {class: paths}. Written once: a rerun of the scoring reads them back."""
    import pandas as pd
    from PIL import Image

    from augment.manifest import save_manifest

    if not (folder / "manifest.csv").exists():
        rows = []
        for k, c in enumerate(names):
            (folder / c).mkdir(parents=True, exist_ok=True)
            for i, img in enumerate(sample(k, per_class)):
                path = folder / c / f"fake{i:05d}.png"
                Image.fromarray(img.permute(1, 2, 0).numpy()).save(path)
                rows.append({"path": str(path.resolve()), "label": c})
        save_manifest(pd.DataFrame(rows), folder / "manifest.csv")
    df = pd.read_csv(folder / "manifest.csv")
    return {c: df.loc[df["label"] == c, "path"].tolist() for c in names}


# The CAS cell issue 19's numbers were measured with (cifar10_100pc.yaml's classifier then): Lite0 ImageNet, 32 px,
# 6 epochs. Fixed here so a changed grid config does not change what this benchmark reports.
CAS_CONFIG = {"data": {"train": "<unused>", "test": "<unused>", "val": 0.2}, "gan": {"synth": "<unused>"},
              "grid": {"ratios": [0], "augs": ["basic"], "pretrained": [True], "seeds": [0, 1, 2]},
              "classifier": {"model": "tf_efficientnet_lite0", "pretrained_weights": "lite0-imagenet", "epochs": 6,
                             "size": 32, "options": {"batch_size": 64, "lr": 0.002, "progress": False, "workers": 0}},
              "cas": {"enabled": True, "aug": "basic", "pretrained": True}}


def cas(folder: Path, test: Path, seeds: int, runs: Path, tail: list[str] | None = None) -> dict:
    """The ablation's CAS cell (classifier trained on the fakes only, selected on a split of them, tested once on
    the real test images; classifier: CAS_CONFIG) for `seeds` seeds; with `tail` (the rarest classes), the tail
    CAS too: its test recall on them, mean over the classes, per seed."""
    from clf.train import train
    from experiments.cells import CellInputs, train_options
    from experiments.config import from_dict
    from experiments.grid import CAS_RATIO, Cell
    from experiments.stats import mean_ci

    cfg = from_dict(CAS_CONFIG, "cas")
    inputs = CellInputs(train="<unused>", test=str(test), val=cfg.data.val, synth={"none": str(folder)})
    accs, f1s, secs, tails = [], [], [], []
    for seed in range(seeds):
        cell = Cell(kind="cas", ratio=CAS_RATIO, aug=cfg.cas.aug, pretrained=cfg.cas.pretrained, seed=seed)
        t0 = time.perf_counter()
        run = train(train_options(cell, inputs, cfg, runs))
        secs.append(time.perf_counter() - t0)
        m = json.loads((run / "metrics.json").read_text())
        accs.append(m["test_acc"])
        f1s.append(m["test_macro_f1"])
        if tail:
            tails.append(sum(m["test_per_class_recall"][c] for c in tail) / len(tail))
    ci = mean_ci(accs)
    out = {"cas_acc": accs, "cas_macro_f1": f1s, "cas_mean": ci["mean"], "cas_ci": [ci["ci_lo"], ci["ci_hi"]],
           "cas_s_per_cell": round(sum(secs) / len(secs), 1)}
    if tail:
        t = mean_ci(tails)
        out.update(tail_classes=tail, tail_cas=tails, tail_cas_mean=t["mean"], tail_cas_ci=[t["ci_lo"], t["ci_hi"]])
    return out


def _sampler(row: dict, names: list[str], device: str):
    """`sample(k, n) -> uint8` of a trained row: SynthMix runs through gen.synth (standing stats), the baseline
    in eval mode with its own fixed noise."""
    import gen.synth as gsynth
    from gen.data import to_uint8

    if row["trainer"].startswith("baseline"):
        G = BaselineG(100, row["width"], len(names)).to(device)
        G.load_state_dict(torch.load(row["G"], map_location=device, weights_only=True))
        G.eval()

        @torch.no_grad()
        def sample(k, n):
            g = torch.Generator().manual_seed(10**6 * (k + 1))
            z = torch.randn(n, G.nz, generator=g).to(device)
            return to_uint8(G(z, torch.full((n,), k, dtype=torch.long, device=device))).cpu()
        return sample
    saved = gsynth.build_generator
    if row["trainer"] == "legacy":
        gsynth.build_generator = legacy_builder()
    try:
        return gsynth.load_sampler(row["run"], device=device)[0]
    finally:
        gsynth.build_generator = saved


def synthmix_options(trainer: str, a, spec, out_dir: Path):
    """GanOptions of `synthmix:<g_cond>[:<d_arch>[:key=value+key=value]]` (GanOptions fields; `/` for `,` inside a
    value, e.g. diffaug=translation/cutout), or of `legacy`."""
    from dataclasses import fields

    from gen.options import GanOptions

    parts = trainer.split(":")
    extra = {}
    if parts[0] == "legacy":
        g_cond, d_arch = "cbn", "dcgan"
    else:
        g_cond, d_arch = parts[1], parts[2] if len(parts) > 2 else "dcgan"
        types = {f.name: type(f.default) for f in fields(GanOptions)}
        for kv in (parts[3].split("+") if len(parts) > 3 else []):
            k, v = kv.split("=", 1)
            t = types[k]
            extra[k] = (v.lower() in ("1", "true", "yes")) if t is bool else t(v.replace("/", ","))
    return GanOptions(data=spec, out=str(out_dir / "runs"), steps=a.steps, max_minutes=a.budget_s / 60,
                      batch=a.batch, ngf=a.width, ndf=a.width, seed=a.seed, g_cond=g_cond, d_arch=d_arch,
                      snapshot_every=10**9, log_every=10, progress=False, judge_steps=0, tensorboard=False, **extra)


def synthmix_macs(opts, real, num_classes: int) -> dict:
    """MACs of one training step (every D step and the G step, forward and backward, frozen features included) and
    of G's and D's forward per image, counted on the CPU with the trainer's own pair."""
    from gen.data import StepSampler, to_float
    from gen.train import _build_pairs, make_fabric

    fabric = make_fabric(1)
    with torch.random.fork_rng(devices=[]):
        pair = _build_pairs(opts, fabric, num_classes, 1)[0]
        sampler = StepSampler(real.targets, opts.batch, opts.seed)
        batches = [(to_float(real.images[i]), real.targets[i])
                   for i in (torch.from_numpy(sampler.indices(0, None, s)) for s in range(opts.d_steps))]
        step = count_macs(lambda: pair.train_step(batches, 0))
        x, y = batches[0][0][:1], batches[0][1][:1]
        with torch.no_grad():
            g1 = count_macs(lambda: pair.G_raw(torch.randn(1, opts.nz), y))
            d1 = count_macs(lambda: pair.D_raw(x, y))
    return {"macs_per_step": step, "g_mmac_per_image": round(g1 / 1e6, 2), "d_mmac_per_image": round(d1 / 1e6, 2)}


def train_one(trainer: str, a, spec, real, names, out_dir: Path, device: str) -> dict:
    """Train one trainer for the budget; the row records where its generator is."""
    from common.atomic import read_jsonl
    from gen.options import GanOptions
    from gen.train import train_gan

    parts = trainer.split(":")
    row = {"trainer": trainer, "data": str(spec.data), "budget_s": a.budget_s, "width": a.width, "batch": a.batch,
           "threads": torch.get_num_threads(), "train_device": device}
    if parts[0] == "baseline":
        if len(parts) > 1 and parts[1] == "matched":  # the width at which it costs what our first trainer costs
            ours = next(t for t in a.trainers.split(",") if t.startswith("synthmix"))
            target = synthmix_macs(synthmix_options(ours, a, spec, out_dir), real, len(names))["macs_per_step"]
            row["width"], macs = matched_width(target, a.batch, len(names))
            row["matched_to"] = ours
        else:
            macs = baseline_macs(a.width, a.batch, len(names))
        row.update(macs)
        G, steps, secs = train_baseline(real.images, real.targets, len(names), row["width"], a.batch, a.budget_s,
                                        a.seed, device)
        row["G"] = str(out_dir / "baseline_G.pt")
        torch.save(G.state_dict(), row["G"])
    else:
        import gen.train as gtrain

        saved = gtrain.build_generator
        opts = synthmix_options(trainer, a, spec, out_dir)
        if parts[0] == "legacy":
            gtrain.build_generator = legacy_builder()
        try:
            row.update(synthmix_macs(opts, real, len(names)))
            run = train_gan(opts)
        finally:
            gtrain.build_generator = saved
        last = [r for r in read_jsonl(run / "stats.jsonl") if "step_time" in r][-1]
        steps, secs = last["step"], last["elapsed_s"]
        row["run"] = str(run)
    row.update(steps=steps, train_s=round(secs, 1), images_per_s=round(steps * a.batch / secs, 1))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="cifar500")
    ap.add_argument("--trainers", default="synthmix:shared,baseline")
    ap.add_argument("--budget-s", type=float, default=120.0, help="Training wall-clock seconds for each trainer.")
    ap.add_argument("--steps", type=int, default=10**9, help="Stop SynthMix trainers earlier at this many steps.")
    ap.add_argument("--width", type=int, default=32, help="ngf = ndf.")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--score-n", type=int, default=2000, help="Generated images for FID/KID (0: skip FID).")
    ap.add_argument("--extractor", default="auto",
                    help="inception | effnet-lite0 | auto (Lite0 for the default D, Inception for a projected D)")
    ap.add_argument("--phase", choices=["all", "train", "score"], default="all",
                    help="train: train and record rows (e.g. one CPU process per trainer); score: measure every "
                         "row in --out (e.g. on a GPU); all: both.")
    ap.add_argument("--cas-seeds", type=int, default=0,
                    help="CAS classifier seeds per trainer (the ablation's CAS cell on --cas-per-class fakes per "
                         "class; needs a --data with a test set); 0: skip")
    ap.add_argument("--cas-per-class", type=int, default=400)
    ap.add_argument("--tail", type=int, default=4,
                    help="Tail CAS over this many rarest classes of --data (issue 30; 0: skip)")
    ap.add_argument("--out", default=str(cache_root() / "bench-gan"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    a = ap.parse_args()

    from augment.spec import DataSpec, load_dataset
    from common.atomic import write_json
    from common.device import pick_device
    from gen.data import load_real_images
    from gen.judge import real_features, train_judge

    device = str(pick_device(a.device))
    train_dir, test_dir = resolve_data(a.data)
    if a.cas_seeds and test_dir is None:
        raise SystemExit(f"--cas-seeds: --data {a.data} has no test set; use cifar100, cifar500 or cifar500lt")
    spec = DataSpec(data=str(train_dir))
    df, label_map = load_dataset(spec, progress=False)
    real = load_real_images(df, label_map, 32, progress=False)
    names = list(label_map.names)
    reals = {c: real.images[real.targets == k] for k, c in enumerate(names)}
    tail = sorted(names, key=lambda c: (len(reals[c]), c))[:a.tail] if a.tail else None
    reference = reference_set(a.data)
    test_reals = None
    if test_dir is not None:
        tdf, _ = load_dataset(DataSpec(data=str(test_dir)), progress=False)
        test = load_real_images(tdf, label_map, 32, progress=False)
        test_reals = {c: test.images[test.targets == k] for k, c in enumerate(names)}
    trainers = a.trainers.split(",")
    rows = {}
    for trainer in trainers:
        out_dir = Path(a.out) / trainer.replace(":", "-")
        out_dir.mkdir(parents=True, exist_ok=True)
        if a.phase in ("all", "train"):
            rows[trainer] = train_one(trainer, a, spec, real, names, out_dir, device)
            write_json(out_dir / "row.json", rows[trainer])
            print(json.dumps(rows[trainer]), flush=True)
        else:
            rows[trainer] = json.loads((out_dir / "row.json").read_text())
    if a.phase == "train":
        return

    t0 = time.perf_counter()
    jnet, jinfo = train_judge(real.images, real.targets, len(names), seed=0, device=device)
    judge = (jnet, jinfo, names, real_features(jnet, real.images, real.targets, names, device))
    print(f"judge: held-out real accuracy {jinfo['real_acc']:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    for trainer, row in rows.items():
        row.update(judge_real_acc=jinfo["real_acc"], score_device=device)
        # auto: Lite0 KID for the default D, Inception for a projected D (never its own eyes)
        extractor = a.extractor if a.extractor != "auto" else \
            "inception" if ":projected" in trainer else "effnet-lite0"
        sample = _sampler(row, names, device)
        out_dir = Path(a.out) / trainer.replace(":", "-")
        fakes, folder = None, out_dir / "fakes"
        if a.cas_seeds or test_reals is not None:  # one set of fakes for FID against both sets and for CAS
            fakes = write_fakes(sample, names, max(a.cas_per_class, -(-a.score_n // len(names))), folder)
        row.update(measure(sample, names, reals, judge, extractor, a.score_n, a.seed, device, test_reals, fakes,
                           reference))
        if a.cas_seeds:
            done = out_dir / "cas.json"  # CAS is the slow part: a rerun of the scoring reuses it
            if not done.exists():
                write_json(done, cas(folder, test_dir, a.cas_seeds, out_dir / "cas_runs", tail))
            row.update(json.loads(done.read_text()))
        write_json(Path(a.out) / trainer.replace(":", "-") / "row.json", row)
        print(json.dumps({k: v for k, v in row.items() if k != "per_class"}), flush=True)

    print("\n| trainer | width | steps | images/s | MMAC/step | FID train / test | KID train / test (extractor) | "
          "diversity/real min | mean | coverage min | mean | agreement mean | min | reference agreement min | "
          "CAS [95% CI] | tail CAS [95% CI] |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    nan = float("nan")
    for r in rows.values():
        cas_cell = f"{r['cas_mean']:.3f} [{r['cas_ci'][0]:.3f}, {r['cas_ci'][1]:.3f}]" if "cas_mean" in r else "—"
        tail_cell = (f"{r['tail_cas_mean']:.3f} [{r['tail_cas_ci'][0]:.3f}, {r['tail_cas_ci'][1]:.3f}]"
                     if "tail_cas_mean" in r else "—")
        ref_cell = f"{r['reference_agreement_min']:.2f}" if r.get("reference_agreement_min") is not None else "—"
        print(f"| {r['trainer']} | {r['width']} | {r['steps']} | {r['images_per_s']} | {r['macs_per_step'] / 1e6:.0f} | "
              f"{r.get('fid', nan):.1f} / {r.get('fid_test', nan):.1f} | {r.get('kid', nan):.3f} / "
              f"{r.get('kid_test', nan):.3f} ({r.get('protocol', '')}) | "
              f"{r['diversity_ratio_min']:.2f} | {r['diversity_ratio_mean']:.2f} | {r.get('coverage_min') or nan:.2f} | "
              f"{r.get('coverage_mean') or nan:.2f} | {r['agreement_mean']:.2f} | {r['agreement_min']:.2f} | "
              f"{ref_cell} | {cas_cell} | {tail_cell} |")


if __name__ == "__main__":
    main()
