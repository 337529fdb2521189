"""Options of `train-gan` and `synth`, one dataclass per command (written whole to config.json)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from augment.spec import DataSpec
from common.ranges import AT_LEAST_1, BN_BATCH, POSITIVE, PROBABILITY, SEED, WORKERS, Range

MODES = ("conditional", "per-class")
DEFAULT_DIFFAUG = "color,translation,cutout"


@dataclass
class GanOptions:
    """Everything `train_gan` needs; defaults suit tiny data on a CPU (DiffAugment on, hinge, DCGAN Adam)."""

    data: DataSpec = field(default_factory=lambda: DataSpec(data=""))
    out: str = "runs"
    mode: str = "conditional"          # one class-conditional G/D, or one unconditional G/D per class
    g_cond: str = "shared"             # how the class reaches G: shared (BigGAN embedding + hierarchical z) | cbn
    g_embed_init: str = "normal"       # the shared class embedding's init: normal (N(0, 1)) | biggan (N(0, 0.02))
    d_arch: str = "dcgan"              # dcgan (spectral-norm projection D) | projected (frozen Lite0 features)
    proj_size: int = 64                # projected D: the size images are resized to for Lite0 (64 | 96 | 128 | 224)
    size: int = 32                     # 32 | 64 | 128 px
    steps: int = 5000                  # G steps (per class model in per-class mode)
    max_minutes: float = 0.0           # stop (checkpoint and all) after this much training time; 0: no limit
    budget_minutes: float = 0.0        # the whole command's time: steps chosen from the pace measured on the first
                                       # ones (at most `steps`), and a stop at the budget; 0: `steps` decide
    batch: int = 64                    # real images per D step (per device, per class model)
    diffaug: str = DEFAULT_DIFFAUG     # DiffAugment policy; "none" turns it off
    loss: str = "hinge"                # hinge | ns
    class_loss: str = "auto"           # none | ac (ACGAN) | d2dce (ReACGAN): a class head on D trained on the reals,
                                       # and a class term for G on its fakes; auto: ac in conditional mode (best
                                       # CAS, BENCHMARKS issue 19), none per class (one class a model)
    class_weight: float = 1.0          # weight of both class terms (StudioGAN: 1.0 for ACGAN, 0.5 for ReACGAN)
    d_steps: int = 1                   # D steps per G step, each on a fresh real batch
    real_flip: bool = False            # horizontal flips of the real images (mirror augmentation), before DiffAugment
    lecam_weight: float = 0.0          # LeCam regularisation of D (google/lecam-gan: 0.3); 0: off
    lecam_start: int = 1000            # LeCam's anchors follow the current means, and the term is off, until here
    gsr_weight: float = 0.0            # gSR (gSRGAN: 0.5): the top singular value of each class's conditional-BN
    gsr_beta: float = 0.99             # gains penalised, rare classes more (effective number with this beta); 0: off
    transition_start: int = 0          # transitional conditioning (transitional-cGAN): the class weight on G's
    transition_end: int = 0            # input and D's conditional terms ramps 0 -> 1 over these steps; end 0: off
    lr_g: float = 1e-4                 # two time-scales (BigGAN-PyTorch's one-D-step recipe): best KID and coverage
    lr_d: float = 4e-4
    beta1: float = 0.5                 # DCGAN's Adam betas: with one D step per G step (0.0, 0.9) oscillates more
    beta2: float = 0.999
    nz: int = 128
    ngf: int = 64
    ndf: int = 64
    ema_decay: float = 0.999           # G_ema's decay (warmed up, so short runs still get a useful G_ema)
    seed: int = 0
    upscale: str = "bicubic"           # interpolation when resizing real images to `size`
    min_class_images: int = 32         # per-class mode refuses smaller classes
    snapshot_every: int = 500          # fakes<step>.png, diversity, checkpoint
    log_every: int = 20                # stats.jsonl lines (averages over the interval)
    score_every: int = 0               # FID/KID every N steps (0: off); needs gen.metrics
    score_n: int = 1000                # generated images per score
    score_metrics: str = "kid"         # gen.metrics names, the first is the headline (best.pt follows it)
    score_extractor: str = "auto"      # inception | effnet-lite0 | auto (inception on GPU, effnet-lite0 on CPU)
    devices: int = 1                   # processes (DDP through Lightning Fabric): GPUs, or gloo on the CPU
    judge_steps: int | None = None     # steps of the agreement classifier on the reals (None: auto, 0: none)
    num_workers: int = 0               # decoding workers for the one-time load of real images
    resume: str | None = None          # run folder to continue exactly
    init_from: str | None = None       # checkpoint to take weights from (step 0, fresh optimisers)
    progress: bool = True
    tensorboard: bool = True           # TensorBoard event files in the run folder (needs the tensorboard package)


def resolve_auto(opts: GanOptions) -> GanOptions:
    """The options with `class_loss="auto"` made concrete (what config.json, the checkpoint and --resume see)."""
    if opts.class_loss != "auto":
        return opts
    return replace(opts, class_loss="ac" if opts.mode == "conditional" else "none")


# What a run made before an option existed trained with: its config.json lacks the key, and a default that has
# changed since (class_loss) must not be read into it on --resume.
OPTIONS_BEFORE = {"class_loss": "none", "class_weight": 1.0, "d_steps": 1, "real_flip": False,
                  "g_embed_init": "normal", "proj_size": 64, "lecam_weight": 0.0, "lecam_start": 1000,
                  "transition_start": 0, "transition_end": 0, "gsr_weight": 0.0, "gsr_beta": 0.99}


# Every numeric option's range (gen.train.check_options, before any folder).
GAN_RANGES = {
    "steps": AT_LEAST_1, "max_minutes": Range(0, why="0: no limit"),
    "budget_minutes": Range(0, why="0: --steps decide"), "batch": BN_BATCH, "lr_g": POSITIVE,
    "lr_d": POSITIVE, "beta1": Range(0, 1, hi_open=True), "beta2": Range(0, 1, hi_open=True), "nz": AT_LEAST_1,
    "ngf": AT_LEAST_1, "ndf": AT_LEAST_1, "ema_decay": Range(0, 1, hi_open=True), "seed": SEED,
    "min_class_images": AT_LEAST_1, "snapshot_every": AT_LEAST_1, "log_every": AT_LEAST_1,
    "score_every": Range(0, why="0: off"), "score_n": Range(2, why="a score needs two images"),
    "devices": AT_LEAST_1, "judge_steps": Range(0, why="0: no agreement classifier"),
    "num_workers": Range(0, why=WORKERS.why, flag="--workers"),
    "class_weight": Range(0, lo_open=True, why="turn the class term off with --class-loss none"),
    "d_steps": AT_LEAST_1, "lecam_weight": Range(0, why="0: off"), "lecam_start": Range(0),
    "transition_start": Range(0), "transition_end": Range(0, why="0: off"),
    "gsr_weight": Range(0, why="0: off"), "gsr_beta": Range(0, 1, lo_open=True, hi_open=True),
    "proj_size": Range(64, 224, why="the projected D's input sizes are 64, 96, 128 and 224"),
}
# Options naming files or folders: compared resolved on --resume (a relative and an absolute spelling agree).
GAN_PATHS = ("data.data", "data.image_root", "data.class_table")
SYNTH_RANGES = {"n": AT_LEAST_1, "batch": AT_LEAST_1, "min_confidence": PROBABILITY}

# Options that may change when resuming: how long, where from, and how the run is watched.
RESUME_IGNORE = ("steps", "max_minutes", "budget_minutes", "resume", "init_from", "out", "snapshot_every",
                 "log_every", "score_every", "score_n", "score_metrics", "num_workers", "progress", "devices",
                 "tensorboard")


@dataclass
class SynthOptions:
    """Everything `synth` needs."""

    gan: str = ""                      # run folder (uses best.pt if present, else last.pt) or a .pt file
    classes: tuple[str, ...] = ()      # class names; empty with all_classes=True means every class
    all_classes: bool = False
    n: int = 500                       # images per class when `seeds` is not given (seeds 0..n-1)
    seeds: str | None = None           # '0-499' or '0,5,9' (stylegan2-ada syntax)
    out: str = "synthetic"
    checkpoint: str = "auto"           # auto | best | last | a .pt path
    batch: int = 64
    min_confidence: float | None = None  # keep only samples the classifier scores >= this (needs the classifier)
    classifier: str | None = None        # scores every sample (manifest.csv's score column); the scorer itself is
                                         # passed to synth() as a function, so gen never imports clf
    reference: str | None = None         # a balanced real set no arm trains on: its judge's agreement and coverage
                                         # per class go into quality.json (gen.reference)
    device: str = "auto"
