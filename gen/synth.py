"""`synth`: class-conditional samples from a trained GAN, one PNG per (class, seed), plus manifest.csv.

Every image comes from its own seed (z = randn(nz) from torch.Generator().manual_seed(seed)) through G_ema with
standing BN statistics (gen.sampling: fixed noise, so deterministic), so `--class X --seeds S` regenerates exactly
one image of an earlier batch (stylegan2-ada's rule). OUT/quality.json gives each class's diversity (mean pairwise
distance, beside the reals' from the run) and classifier agreement (the run's judge.pt), so variety and class
correctness are checked where the images are made.
The optional classifier takes a plain function (cli.py builds it from clf), so gen never imports clf: with it every
image gets a `score` column in manifest.csv (what `train --synth-filter top<q>` ranks by), and with a threshold only
images scored at or above it are written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from common.errors import UserError
from gen.checkpoint import load_checkpoint, resolve_checkpoint
from gen.data import to_uint8
from gen.nets import build_generator
from gen.options import SynthOptions
from gen.sampling import generate, score_seeds, with_standing_stats

ScoreFn = Callable[[torch.Tensor, str], torch.Tensor]


class GanSampler:
    """G_ema of a checkpoint (one conditional G, or one G per class), ready to sample by class and seed."""

    def __init__(self, ckpt: dict, device: torch.device):
        a = ckpt["arch"]
        self.names: list[str] = list(ckpt["class_names"])
        self.size, self.nz, self.device = a["size"], a["nz"], device
        self.conditional = a["mode"] == "conditional"
        self.step = int(ckpt.get("step", 0))
        k = len(self.names) if self.conditional else 0
        self.gens = []
        for state in ckpt["models"]:
            G = build_generator(a["size"], a["nz"], a["ngf"], k, a["g_cond"], transitional=a.get("transitional", False))
            G.load_state_dict(state["G_ema"])
            self.gens.append(with_standing_stats(G, a["nz"], k, device))

    def class_index(self, name: str) -> int:
        if name not in self.names:
            raise UserError(f"unknown class {name!r}; this GAN knows: {', '.join(self.names)}")
        return self.names.index(name)

    @torch.no_grad()
    def generate(self, k: int, seeds: list[int], batch: int = 64) -> torch.Tensor:
        """uint8 (len(seeds), 3, size, size) images of class index k, image i from seeds[i]."""
        G = self.gens[0] if self.conditional else self.gens[k]
        if not seeds:
            return torch.empty(0, 3, self.size, self.size, dtype=torch.uint8)
        return to_uint8(generate(G, self.nz, k if self.conditional else None, seeds, self.device, batch))


def open_gan(gan: str | Path, checkpoint: str | None = "auto", device: str = "auto") -> tuple[GanSampler, Path]:
    """A train-gan run folder (or .pt file) -> its sampler and the checkpoint file used."""
    from common.device import pick_device

    path = resolve_checkpoint(gan, checkpoint or "auto")
    return GanSampler(load_checkpoint(path), pick_device(device)), path


def load_sampler(run: str | Path, checkpoint: str | None = None, device: str = "auto"):
    """For gen.metrics (`fid --gan RUN`): `(sample_fn(class_index, n) -> uint8 (n, 3, H, W), class_names)`.

    Class k's images use gen.sampling.score_seeds (the seeds train-gan scores with): fixed, disjoint from synth's.
    """
    sampler, _ = open_gan(run, checkpoint, device)

    def sample_fn(k: int, n: int) -> torch.Tensor:
        return sampler.generate(k, score_seeds(k, n))

    return sample_fn, sampler.names


def synth(opts: SynthOptions, score_fn: ScoreFn | None = None) -> pd.DataFrame:
    """Write OUT/<class>/seed<NNNN>.png and OUT/manifest.csv; return the manifest.

    With `score_fn`, the manifest gets a `score` column: `score_fn(images, class)`, the probability of the image's
    own class. With `opts.min_confidence` too, only samples scored >= min_confidence are kept;
    `df.attrs["kept"]` / `["generated"]` count them per class.
    """
    from common.progress import progress_bar

    from augment.manifest import save_manifest
    from common.atomic import atomic_dir, write_json
    from common.outputs import check_new_dir
    from gen.quality import MAX_PER_CLASS, class_quality, load_run_judge, run_real_diversity, run_real_features
    from common.seeding import parse_seeds

    from common.device import pick_device
    from common.ranges import check_ranges
    from gen.options import SYNTH_RANGES

    if opts.min_confidence is not None and score_fn is None:
        raise UserError(f"--min-confidence {opts.min_confidence}: needs --classifier RUN (a classifier trained on the "
                        "real images) to score the images; pass --classifier too, or drop --min-confidence")
    check_ranges(opts, SYNTH_RANGES)
    if opts.reference is not None and not Path(opts.reference).exists():
        raise UserError(f"--reference {opts.reference}: not found; pass a balanced real folder (or CSV) of the GAN's "
                        "classes that no arm trains on")
    out = check_new_dir(opts.out)
    pick_device(opts.device)
    sampler, ckpt_path = open_gan(opts.gan, opts.checkpoint, opts.device)
    if opts.all_classes and opts.classes:
        raise UserError("--class and --all together; pass the classes you want, or --all for every class")
    names = list(sampler.names) if opts.all_classes else list(dict.fromkeys(opts.classes))
    if not names:
        raise UserError(f"synth: no class given; pass --class X (one or more) or --all; "
                        f"this GAN knows: {', '.join(sampler.names)}")
    indices = [sampler.class_index(c) for c in names]  # refuses unknown classes before writing anything
    judged = getattr(score_fn, "label_map", None)  # the classifier's classes, when the scorer says them
    unknown = [c for c in names if judged is not None and c not in judged.names]
    if unknown:
        raise UserError(f"--classifier {opts.classifier}: trained on {', '.join(judged.names)}, not on "
                        f"{', '.join(unknown)} of this GAN; pass a classifier trained on the GAN's classes, or "
                        "--class only the ones it knows")
    if opts.seeds is not None:
        seeds = parse_seeds(opts.seeds)
    else:
        seeds = list(range(opts.n))
    if not seeds:
        raise UserError("--seeds: empty list; use e.g. '0-499'")
    categories = _categories(opts.gan, sampler.names)
    reference = None
    if opts.reference is not None:  # trained (or its set refused) before any image is made
        from common.paths import cache_root
        from gen.reference import reference_judge

        reference = reference_judge(opts.reference, sampler.size, list(sampler.names), cache_root())
    width = max(4, len(str(max(seeds))))

    from PIL import Image

    rows, generated, kept, sample = [], {}, {}, {}
    gan_run = str(ckpt_path.parent.resolve())
    with atomic_dir(out) as tmp:
        # One bar for the whole job, the class beside it: a log gets a line per half minute, not a bar per class.
        with progress_bar(total=len(names) * len(seeds), desc="synth", unit="img") as bar:
            for name, k in zip(names, indices):
                (tmp / name).mkdir(parents=True)
                bar.set_postfix_str(name, refresh=False)
                for i in range(0, len(seeds), opts.batch):
                    chunk = seeds[i:i + opts.batch]
                    imgs = sampler.generate(k, chunk, opts.batch)
                    keep = torch.ones(len(chunk), dtype=torch.bool)
                    scores = [None] * len(chunk)
                    if score_fn is not None:
                        p = torch.as_tensor(score_fn(imgs, name)).float().cpu()
                        scores = p.tolist()
                        if opts.min_confidence is not None:
                            keep = p >= opts.min_confidence
                    have = len(sample.get(name, ()))
                    if have < MAX_PER_CLASS:
                        sample[name] = torch.cat([sample.get(name, imgs[:0]), imgs[keep][:MAX_PER_CLASS - have]])
                    for s, img, ok, sc in zip(chunk, imgs, keep.tolist(), scores):
                        if not ok:
                            continue
                        fname = f"seed{s:0{width}d}.png"
                        Image.fromarray(img.permute(1, 2, 0).numpy()).save(tmp / name / fname)
                        rows.append({"path": str((out / name / fname).resolve()), "label": name,
                                     "category": categories.get(name), "source": "synthetic", "gan_run": gan_run,
                                     "checkpoint": str(ckpt_path.resolve()), "seed": int(s), "gan_step": sampler.step,
                                     "score": sc})
                    generated[name] = generated.get(name, 0) + len(chunk)
                    kept[name] = kept.get(name, 0) + int(keep.sum())
                    bar.update(len(chunk))
        columns = ["path", "label", "category", "source", "gan_run", "checkpoint", "seed", "gan_step"]
        df = pd.DataFrame(rows, columns=columns + ["score"] * (score_fn is not None))
        save_manifest(df, tmp / "manifest.csv")
        run = ckpt_path.parent
        quality = class_quality(sample, load_run_judge(run), run_real_diversity(run), run_real_features(run))
        quality.update(checkpoint=str(ckpt_path.resolve()), step=sampler.step, generated=generated, kept=kept)
        if reference is not None:
            from gen.reference import reference_quality

            quality["reference"] = reference_quality(sample, reference, opts.reference)
        write_json(tmp / "quality.json", quality)
    df.attrs.update(generated=generated, kept=kept, checkpoint=str(ckpt_path), step=sampler.step, quality=quality)
    return df


def _categories(gan: str | Path, names: list[str]) -> dict[str, str | None]:
    """Each class's category from the run's labels.json (None when the GAN was given a bare .pt file)."""
    from augment.labels import LabelMap

    run = Path(gan) if Path(gan).is_dir() else Path(gan).parent
    if not (run / "labels.json").exists():
        return {n: None for n in names}
    lm = LabelMap.load(run)
    return {n: lm.category_of(n) for n in lm.names if n in names}
