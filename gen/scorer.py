"""FID/KID of G_ema while train-gan trains, through gen.metrics, on the seeds `fid --gan` uses."""
from __future__ import annotations

from pathlib import Path

import torch

from common.errors import UserError
from common.seeding import get_rng_state, set_rng_state
from gen.data import RealImages
from gen.gan import GanPair
from gen.options import GanOptions
from gen.sampling import generate, score_seeds
from gen.watch import sampling_gens


class Scorer:
    """FID/KID of G_ema during training through gen.metrics; metric-<protocol>.jsonl, best.pt follows the headline."""

    def __init__(self, run_dir: Path, pairs: list[GanPair], real: RealImages, opts: GanOptions, names: list[str],
                 device):
        try:
            from gen.metrics import score_generator, track_metric
        except ImportError:
            raise UserError("--score-every: gen.metrics is not available in this build; train without it and "
                            "score the run afterwards with the fid command") from None
        self.score_generator, self.track_metric = score_generator, track_metric
        self.run_dir, self.pairs, self.opts, self.names, self.device = run_dir, pairs, opts, names, device
        self.real = {c: real.images[real.targets == k] for k, c in enumerate(names)}
        ext = opts.score_extractor
        if ext == "auto":  # a projected D sees through Lite0: only Inception judges it fairly
            ext = "inception" if torch.cuda.is_available() or opts.d_arch == "projected" else "effnet-lite0"
        self.extractor = ext

    @torch.no_grad()
    def _sample(self, k: int, n: int) -> torch.Tensor:
        """The same seeds as `fid --gan` (gen.sampling.score_seeds), so the tracked score is reproducible."""
        from gen.data import to_uint8

        conditional = self.pairs[0].conditional
        G = self.gens[0] if conditional else self.gens[k]
        return to_uint8(generate(G, self.opts.nz, k if conditional else None, score_seeds(k, n), self.device))

    def __call__(self, step: int) -> dict:
        from tqdm import tqdm

        state = get_rng_state()  # scoring must not move the training RNG (exact resume)
        self.gens = sampling_gens(self.pairs, self.opts.nz, len(self.names), self.device)
        result = self.score_generator(self._sample, self.real, class_names=self.names,
                                      metrics=tuple(m.strip() for m in self.opts.score_metrics.split(",")),
                                      extractor=self.extractor, n=self.opts.score_n, seed=self.opts.seed,
                                      device=str(self.device),
                                      # float64 guards against float32 features drifting with batch size; within
                                      # one run the batch size is fixed, so float32 (about 2x faster) compares fairly.
                                      dtype="float32")
        set_rng_state(state)
        best = self.track_metric(self.run_dir, step, self.run_dir / "last.pt", result,
                                 best_path=self.run_dir / "best.pt")
        value = result["headline"]
        shown = "unavailable" if value is None else f"{value:.4g}"  # e.g. Inception Score offline: no logits
        tqdm.write(f"step {step}: {result['protocol']} = {shown}" + (" (best)" if best else ""))
        return result
