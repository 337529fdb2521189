"""The `fid` command: options dataclass, run, and the per-class table printed to the terminal."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from common.ranges import AT_LEAST_1, SEED, Range


@dataclass
class FidOptions:
    """Options of `python cli.py fid` (one dataclass per command)."""

    real: str
    out: str
    fake: str | None = None
    gan: str | None = None
    checkpoint: str | None = None
    per_class: bool = False
    metrics: str = "fid,kid"
    n: int = 10000
    extractor: str = "inception"
    resize: int | None = None
    batch_size: int = 64
    device: str = "auto"
    cache_name: str | None = None
    no_cache: bool = False
    seed: int = 0
    progress: bool = True


FID_RANGES = {"n": AT_LEAST_1, "resize": Range(16, why="the feature extractors need some pixels"),
              "batch_size": AT_LEAST_1, "seed": SEED}


def _sampler_from_run(run: str, checkpoint: str | None, device: str):
    """A GAN run's sampler, from gen's sampling code: `load_sampler(run, checkpoint, device) -> (sample_fn, names)`."""
    try:
        from gen.synth import load_sampler
    except ImportError:
        raise UserError(f"--gan {run}: this build cannot sample GAN runs yet (gen.synth.load_sampler is missing); "
                        "write images with `synth` and pass --fake DIR") from None
    if not Path(run).is_dir():
        raise UserError(f"--gan {run}: run folder not found; pass a folder made by train-gan")
    return load_sampler(run, checkpoint=checkpoint, device=device)


def _refuse_own_eyes(run: str, extractor: str) -> None:
    """fid --gan on a projected-D run with Lite0 features is refused (gen.nets.projected.refuse_lite0_scoring)."""
    from common.runs import read_config
    from gen.nets.projected import refuse_lite0_scoring

    if Path(run, "config.json").is_file():
        refuse_lite0_scoring(read_config(Path(run)).get("options", {}).get("d_arch"), extractor, f"--gan {run}")


def run_fid(opts: FidOptions) -> dict:
    """Score --fake DIR or --gan RUN against --real; write the flat result to --out; return it."""
    from common.atomic import write_json
    from gen.metrics.score import score
    from common.device import pick_device
    from common.outputs import check_out_file
    from common.ranges import check_ranges

    if (opts.fake is None) == (opts.gan is None):
        raise UserError("fid: pass exactly one of --fake DIR (images) or --gan RUN (a train-gan run folder)")
    check_ranges(opts, FID_RANGES)
    check_out_file(opts.out)  # before minutes of feature extraction, not after
    pick_device(opts.device)
    class_names = None
    if opts.gan is not None:
        _refuse_own_eyes(opts.gan, opts.extractor)
        fake, class_names = _sampler_from_run(opts.gan, opts.checkpoint, opts.device)
    else:
        fake = opts.fake
    result = score(opts.real, fake, metrics=opts.metrics, extractor=opts.extractor, per_class=opts.per_class,
                   n=opts.n, cache_name=False if opts.no_cache else opts.cache_name, progress=opts.progress,
                   resize=opts.resize, batch_size=opts.batch_size, device=opts.device, seed=opts.seed,
                   class_names=class_names)
    result.update(real=str(opts.real), fake=str(opts.fake) if opts.fake else None, gan=opts.gan,
                  checkpoint=opts.checkpoint)
    quality = _quality(opts, fake, class_names)
    if quality is not None:
        result["quality"] = quality
    write_json(opts.out, result)
    return result


def _quality(opts: FidOptions, fake, class_names) -> dict | None:
    """Per-class diversity and classifier agreement beside FID: from the GAN run (--gan), or from the train-gan
    run a synth folder's manifest names (--fake); None when the fakes have no classes."""
    from gen.quality import MAX_PER_CLASS, class_quality, load_run_judge, run_real_diversity, run_real_features

    if opts.gan is not None:
        fakes = {c: fake(k, MAX_PER_CLASS) for k, c in enumerate(class_names)}
        run = Path(opts.gan)
    else:
        fakes, run = _fake_folder_sample(Path(opts.fake), MAX_PER_CLASS)
        if not fakes:
            return None
    if run is None:
        return class_quality(fakes)
    return class_quality(fakes, load_run_judge(run), run_real_diversity(run), run_real_features(run))


def _fake_folder_sample(folder: Path, n: int):
    """Up to n uint8 images per class folder (same size only), and the train-gan run its manifest names."""
    import numpy as np
    import torch

    from augment.images import load_rgb
    from gen.metrics.imagesets import CORRUPT_FIX, load_groups

    try:
        groups = load_groups(folder, "fake")
    except UserError:
        return {}, None
    if None in groups:
        return {}, None
    fakes = {}
    for c, paths in groups.items():
        arrs = [load_rgb(p, fix=CORRUPT_FIX) for p in sorted(paths)[:n]]
        if len({a.shape for a in arrs}) != 1:
            return {}, None  # mixed sizes: no pixel-space diversity
        fakes[c] = torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()
    run = None
    manifest = folder / "manifest.csv"
    if manifest.is_file():
        from common.csvfile import read_csv

        t = read_csv(manifest, "manifest", encoding_option=None)
        runs = [v for v in t.get("gan_run", []) if str(v).strip()]
        if runs:
            run = Path(runs[0])
    return fakes, run


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def format_result(result: dict) -> str:
    """A few lines for the terminal: headline, extractor and counts, and the per-class table (KID first)."""
    lines = [f"{result['protocol']}: {result['headline_key']} = {_fmt(result['headline'])}  "
             f"(extractor {result['extractor']}, real {result['n_real']}, fake {result['n_fake']})"]
    for k in ("fid", "kid", "precision", "recall", "f_score", "isc"):
        if k in result and not result["per_class"]:
            extra = f" ± {_fmt(result['kid_std'])}" if k == "kid" else ""
            lines.append(f"  {k}: {_fmt(result[k])}{extra}")
    if result.get("isc_unavailable"):
        lines.append(f"  isc: {result['isc_unavailable']}")
    rows = result.get("per_class_table") or []
    if rows:
        cols = [c for c in ("kid", "kid_std", "fid", "precision", "recall", "f_score") if any(c in r for r in rows)]
        header = ["class", *cols, "n_real", "n_fake"]
        table = [header] + [[str(r["class"]), *(_fmt(r.get(c)) for c in cols), str(r["n_real"]), str(r["n_fake"])]
                            + ([f"skipped: {r['skipped']}"] if r.get("skipped") else []) for r in rows]
        widths = [max(len(row[i]) for row in table if i < len(row)) for i in range(len(header))]
        for row in table:
            lines.append("  " + "  ".join(cell.ljust(widths[i]) if i < len(widths) else cell
                                          for i, cell in enumerate(row)))
    if result.get("fid_note"):
        lines.append(f"  note: {result['fid_note']}")
    if result.get("quality"):
        from gen.quality import format_quality

        lines += ["  variety and class:", *format_quality(result["quality"])]
    return "\n".join(lines)
