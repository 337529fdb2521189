"""One prepared GPU check (issue 21): what the GPU path users train on does, in one summary, OUT_DIR/gpu_check.json.

Not a test; run through bench/gpu_check.sh. Sections, each timed, each written to the summary as it ends (a run cut
short keeps what it measured; a section that fails records its error and the rest still run):
  env    GPU, torch, CUDA, the AMP dtype both trainers use
  gan    train-gan's default at width 64, batch 128, CIFAR-10 500 per class, for 4 minutes: steps/s, images/s,
         peak memory (from its stats.jsonl)
  host   the same GAN steps under torch.profiler: the share of step time the GPU spends idle, waiting on the host
  fid    standard-Inception FID/KID of 10,000 fakes of that run, computed on the GPU
  train  `train` throughput of Lite0 ImageNet at 224 px with AMP (images/s of the last epoch, its val pass included)
  cells  k ablation-style `train` cells side by side (k = 1, 2, 4, 8): summed images/s, and the k where it stops rising
  pace   train-gan's steps/s by size (32, 64, 128 px) and width (32, 64), batch 64, as --budget-minutes times them
         (issue 32: the README's table, and the photo GAN's steps/s at 64 and 128 px)

`--smoke` runs the same sections on the CPU on a tiny made-up dataset in under a minute (tests/test_gpu_check.py), so
the script is known to work before a GPU is lent. CIFAR-10 comes from --archive (default ../shared/data, else the
repo's ignored .data/ folder, where a device run finds it: ../shared does not travel to the GPU machine).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

# Full run (one GPU, 8 minutes in all) and smoke run (CPU, under a minute): the same steps, smaller.
FULL = dict(gan_minutes=4.0, width=64, batch=128, profile_steps=30, fid_n=10000, fid_batch=250,
            fid_extractor="inception", train_size=224,
            train_batch=256, train_epochs=3, cell_model="tf_efficientnet_lite0", cell_size=64, cell_epochs=2,
            cell_batch=128, cells=(1, 2, 4, 8), pace_sizes=(32, 64, 128), pace_widths=(32, 64), pace_steps=10)
# Smoke: Lite0 features instead of Inception for FID (the same call; Inception takes ~0.5 s an image on 2 cores).
SMOKE = dict(gan_minutes=0.05, width=8, batch=8, profile_steps=3, fid_n=40, fid_batch=20,
             fid_extractor="effnet-lite0", train_size=32,
             train_batch=8, train_epochs=1, cell_model="test_resnet", cell_size=24, cell_epochs=1, cell_batch=8,
             cells=(1, 2), pace_sizes=(32,), pace_widths=(8,), pace_steps=1)


def environment() -> dict:
    """What the numbers were measured on."""
    env = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "cuda_available": torch.cuda.is_available(), "cpus": os.cpu_count(), "host": platform.node()}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_memory_gb=round(p.total_memory / 2 ** 30, 1), gpus=torch.cuda.device_count(),
                   cudnn=torch.backends.cudnn.version(),
                   # the precision gen/train.make_fabric and clf/train.build_trainer choose
                   amp_dtype="bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    else:
        env.update(gpu=None, amp_dtype=None)
    return env


def smoke_data(root: Path) -> Path:
    """Two classes of 24 random 32 px PNGs: enough for every section's code path, nothing to learn."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, cls in enumerate(("cat", "dog")):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(24):
            a = np.clip(rng.normal(80 + 90 * k, 40, (32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(a).save(root / cls / f"{i:03d}.png")
    return root


def cifar_data(archive: str | None) -> Path:
    """CIFAR-10, 500 per class (seeded), via the ablation's data recipe."""
    from experiments.data_prep import prepare_data

    candidates = [archive] if archive else [str(ROOT.parent / "shared/data/cifar10-jpg.tar.gz"),
                                            str(ROOT / ".data/cifar10-jpg.tar.gz")]
    found = next((a for a in candidates if Path(a).is_file()), None)
    if found is None:
        sys.exit(f"gpu_check: no CIFAR-10 archive at {' or '.join(candidates)}; copy cifar10-jpg.tar.gz to .data/ "
                 "(and carry it to the GPU machine) or pass --archive")
    return Path(prepare_data({"kind": "cifar10_subset", "per_class": 500, "seed": 0, "archive": found})["train"])


def gan_opts(data: Path, out: Path, p: dict, **kw):
    from augment.spec import DataSpec
    from gen.options import GanOptions

    return GanOptions(data=DataSpec(data=str(data)), out=str(out), ngf=p["width"], ndf=p["width"], batch=p["batch"],
                      steps=10 ** 7, max_minutes=p["gan_minutes"], snapshot_every=10 ** 7, log_every=10,
                      judge_steps=0, progress=False, **kw)


def gan_throughput(data: Path, out: Path, p: dict) -> dict:
    """train-gan's default for a fixed time; its own stats.jsonl says how fast (rows after the first: warm)."""
    from common.atomic import read_jsonl
    from gen.train import train_gan

    run = train_gan(gan_opts(data, out / "gan", p))
    rows = [r for r in read_jsonl(run / "stats.jsonl") if "step_time" in r]
    warm = rows[1:] or rows
    step_time = sorted(r["step_time"] for r in warm)[len(warm) // 2]
    res = {"run": str(run), "steps": rows[-1]["step"], "train_s": round(rows[-1]["elapsed_s"], 1),
           "steps_per_s": round(1 / step_time, 2), "images_per_s": round(p["batch"] / step_time, 1),
           "width": p["width"], "batch": p["batch"]}
    if any("peak_mem_mb" in r for r in rows):
        res["peak_mem_mb"] = round(max(r.get("peak_mem_mb", 0) for r in rows), 1)
    return res


def host_share(data: Path, p: dict) -> dict:
    """The same GAN steps under torch.profiler: share of wall time the device is idle (waiting on the host)."""
    from torch.profiler import ProfilerActivity, profile

    from augment.spec import load_dataset
    from gen.data import StepSampler, load_real_images, to_float
    from gen.train import _build_pairs, _on_device, make_fabric

    opts = gan_opts(data, Path("unused"), p)
    fabric = make_fabric(1)
    df, lm = load_dataset(opts.data, progress=False)
    real = load_real_images(df, lm, opts.size, progress=False)
    pair = _build_pairs(opts, fabric, lm.num_classes, 1)[0]
    images, targets = _on_device(real, fabric.device)
    sampler = StepSampler(real.targets, opts.batch, 0)
    cuda = fabric.device.type == "cuda"

    def steps(start: int, n: int) -> None:
        for s in range(start, start + n):
            idx = torch.from_numpy(sampler.indices(s)).to(images.device)
            pair.train_step([(to_float(images[idx]).to(fabric.device), targets[idx].to(fabric.device))], s)
        if cuda:
            torch.cuda.synchronize()

    steps(0, 5)  # warm-up: cuDNN autotune, allocator
    t0 = time.perf_counter()
    steps(5, p["profile_steps"])
    plain = time.perf_counter() - t0
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=acts) as prof:
        t0 = time.perf_counter()
        steps(5 + p["profile_steps"], p["profile_steps"])
        wall = time.perf_counter() - t0
    events = prof.key_averages()
    device_s = sum(getattr(e, "self_device_time_total", 0) for e in events) / 1e6 if cuda else 0.0
    host_s = sum(e.self_cpu_time_total for e in events) / 1e6
    return {"steps": p["profile_steps"], "step_ms": round(1000 * plain / p["profile_steps"], 2),
            "step_ms_profiled": round(1000 * wall / p["profile_steps"], 2),
            "device_busy_share": round(min(device_s / wall, 1.0), 3),
            # On one stream, device time summed over kernels is the time the GPU was busy; the rest of the wall
            # time it waited for the host (Python, launches, syncs). On the CPU every step is host time.
            "host_share": round(1 - min(device_s / wall, 1.0), 3), "host_op_s": round(host_s, 3)}


def fid(run: str, data: Path, out: Path, p: dict) -> dict:
    """Standard-Inception FID/KID of fid_n fakes of the GAN run against its reals, on the GPU when there is one."""
    from gen.metrics.command import FidOptions, run_fid

    t0 = time.perf_counter()
    res = run_fid(FidOptions(real=str(data), gan=run, out=str(out / "fid.json"), n=p["fid_n"], metrics="fid,kid",
                             extractor=p["fid_extractor"], batch_size=p["fid_batch"], no_cache=True, progress=False))
    keep = {k: v for k, v in res.items() if k in ("protocol", "fid", "kid", "kid_std", "n_fake", "n_real", "extractor")}
    return {**keep, "n": p["fid_n"], "seconds": round(time.perf_counter() - t0, 1)}


def train_opts(data: Path, out: Path, p: dict, **kw):
    from augment.spec import DataSpec
    from clf.options import TrainOptions

    base = dict(data=DataSpec(data=str(data)), out=str(out), epochs=p["train_epochs"], batch_size=p["train_batch"],
                size=p["train_size"], lite0_imagenet=True, aug="flip", progress=False)
    base.update(kw)
    return TrainOptions(**base)


def epoch_rate(run: Path) -> float:
    """images/s of a run's last epoch (training and its validation pass), from metrics.csv."""
    import pandas as pd

    last = pd.read_csv(run / "metrics.csv").iloc[-1]
    return float(last["train_images"]) / float(last["time_s"])


def train_throughput(data: Path, out: Path, p: dict) -> dict:
    """`train` as users run it for transfer: Lite0 ImageNet at 224 px (AMP on a GPU)."""
    from clf.train import train

    t0 = time.perf_counter()
    run = train(train_opts(data, out / "train", p))
    return {"model": "tf_efficientnet_lite0 (ImageNet)", "size": p["train_size"], "batch": p["train_batch"],
            "epochs": p["train_epochs"], "images_per_s": round(epoch_rate(run), 1),
            "seconds": round(time.perf_counter() - t0, 1)}


def side_by_side(data: Path, out: Path, p: dict) -> dict:
    """k ablation-style `train` cells at once (threads and workers split between them): where summed images/s
    stops rising is how many cells one GPU should run (`ablate --jobs`)."""
    cpus = os.cpu_count() or 1
    rows = []
    for k in p["cells"]:
        threads = max(1, cpus // k)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        procs = []
        t0 = time.perf_counter()
        for i in range(k):
            dest = out / "cells" / f"k{k}-{i}"
            args = [sys.executable, str(ROOT / "cli.py"), "train", "--data", str(data), "--out", str(dest),
                    "--no-progress", "--epochs", str(p["cell_epochs"]), "--batch-size", str(p["cell_batch"]),
                    "--size", str(p["cell_size"]), "--aug", "flip", "--workers", str(max(0, threads - 1)), "--seed",
                    str(i)]
            args += ["--lite0-imagenet"] if p["cell_model"] == "tf_efficientnet_lite0" else ["--model", p["cell_model"]]
            procs.append((dest, subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                                 text=True)))
        rates = []
        for dest, proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"cell {dest.name} failed: {err.strip().splitlines()[-1] if err.strip() else ''}")
            rates.append(epoch_rate(next(dest.iterdir())))
        rows.append({"cells": k, "images_per_s": round(sum(rates), 1), "per_cell": round(sum(rates) / k, 1),
                     "wall_s": round(time.perf_counter() - t0, 1)})
    best = rows[0]
    for r in rows[1:]:
        if r["images_per_s"] < 1.1 * best["images_per_s"]:
            break  # less than 10% more from more cells: throughput has stopped rising
        best = r
    return {"model": p["cell_model"], "size": p["cell_size"], "epochs": p["cell_epochs"], "rows": rows,
            "best_cells": best["cells"]}


def gan_pace(p: dict) -> dict:
    """train-gan's steps/s by size and width (its own timing: gen.train._pace_of), batch 64, 10 classes."""
    from gen.options import GanOptions, resolve_auto
    from gen.train import _pace_of, make_fabric

    fabric = make_fabric(1)
    rows = [{"size": size, "width": w,
             "steps_per_s": _pace_of(resolve_auto(GanOptions(size=size, ngf=w, ndf=w)), fabric, 10, 1, 3, {},
                                     steps=p["pace_steps"])}
            for size in p["pace_sizes"] for w in p["pace_widths"]]
    return {"batch": 64, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="folder for gpu_check.json and the runs it makes")
    ap.add_argument("--smoke", action="store_true", help="the same steps on the CPU, tiny, in under a minute")
    ap.add_argument("--archive", default=None, help="cifar10-jpg.tar.gz (default: ../shared/data, else .data/)")
    ap.add_argument("--only", default=None, help="comma list of sections to run (default: all)")
    a = ap.parse_args(argv)
    p = SMOKE if a.smoke else FULL
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if a.smoke:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU path, even on a GPU machine
    # The GPU machine reaches no network: go straight to the offline Inception instead of waiting on a download.
    os.environ.setdefault("SYNTHMIX_OFFLINE", "1")
    from common.atomic import write_json

    summary = {"smoke": a.smoke, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "command": " ".join(["bench/gpu_check.sh", *(argv if argv is not None else sys.argv[1:])]),
               "env": environment(), "sections": {}}
    write_json(out / "gpu_check.json", summary)
    data = smoke_data(out / "data") if a.smoke else cifar_data(a.archive)
    summary["data"] = str(data)
    wanted = set(a.only.split(",")) if a.only else None
    sections = [("gan", lambda: gan_throughput(data, out, p)),
                ("host", lambda: host_share(data, p)),
                ("fid", lambda: fid(summary["sections"]["gan"]["run"], data, out, p)),
                ("train", lambda: train_throughput(data, out, p)),
                ("cells", lambda: side_by_side(data, out, p)),
                ("pace", lambda: gan_pace(p))]
    failed = 0
    for name, fn in sections:
        if wanted and name not in wanted:
            continue
        t0 = time.perf_counter()
        print(f"gpu_check: {name} ...", flush=True)
        try:
            res = fn()
        except Exception as e:  # one broken section must not cost the others their device time
            failed += 1
            res = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}
        res["section_s"] = round(time.perf_counter() - t0, 1)
        summary["sections"][name] = res
        write_json(out / "gpu_check.json", summary)
        print(f"gpu_check: {name}: {json.dumps({k: v for k, v in res.items() if k != 'traceback'})}", flush=True)
    summary["complete"] = failed == 0
    write_json(out / "gpu_check.json", summary)
    print(f"gpu_check: wrote {out / 'gpu_check.json'} ({failed} section(s) failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
