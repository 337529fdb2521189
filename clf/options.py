"""One options dataclass per command (train, predict, submit); the CLI fills them, the parts read them."""
from __future__ import annotations

from dataclasses import dataclass

from augment.spec import DataSpec
from common.ranges import AT_LEAST_1, BN_BATCH, NON_NEGATIVE, POSITIVE, PROBABILITY, SEED, VAL_FRACTION, WORKERS, Range

SELECT_METRICS = ("acc", "macro_f1", "micro_f1", "hier_acc")
PRIOR_LOSSES = ("balanced_softmax", "logit_adjusted")  # losses that shift the logits by the class prior in training
LOSSES = ("ce", "focal", "balanced_softmax", "logit_adjusted", "ldam")
OPTIMIZERS = ("adamw", "sgd", "adam", "rmsprop", "lamb", "lion")


@dataclass
class TrainOptions:
    """Everything `train` needs; saved in config.json and in every checkpoint."""

    data: DataSpec
    out: str = "runs"
    val_data: str | None = None          # a separate labelled validation set (same column options as --data)
    val_fraction: float = 0.2            # used when val_data is None: stratified split of --data
    test_data: str | None = None         # held-out labelled set, scored once at the end with best.pt
    synth: str | None = None             # a synth folder holding manifest.csv
    ratio: float | None = None           # synthetic images per class = ratio × that class's real count
    balance: bool = False                # instead: top every class up to the largest class
    synth_filter: str = "none"           # none | 0.8 (min confidence) | top0.5 (each class's best-scored half)
    synth_scorer: str | None = None      # a classifier run trained on the real images: scores for synth_filter
    synth_weight: float = 1.0            # loss weight of a synthetic image (a real one weighs 1)
    real_last: int = 0                   # the last N epochs train on the real images only
    model: str | None = None             # any timm model name
    pretrained: bool = False             # timm hub weights (online)
    weights: str | None = None           # a local checkpoint: weights only
    lite0_imagenet: bool = False         # offline ImageNet weights for tf_efficientnet_lite0 (packaged)
    aug: str = "basic"
    size: int | None = None              # None: the model's default input size
    upscale: str = "bicubic"
    epochs: int = 10
    batch_size: int = 32
    opt: str = "adamw"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.05
    warmup_epochs: int = 1
    warmup_lr: float = 1e-5
    min_lr: float = 1e-6
    trainable: str = "all"               # all | head | last:K
    stages: tuple[str, ...] = ()         # "EPOCHS:TRAINABLE:OPT:LR" each; overrides epochs/trainable/opt/lr
    label_smoothing: float = 0.0
    mixup: float = 0.0                   # mixup alpha (0 = off)
    cutmix: float = 0.0                  # cutmix alpha (0 = off)
    class_weighted: bool = False         # loss weights 1/frequency
    balanced_sampler: bool = False       # WeightedRandomSampler, rare classes drawn as often as common ones
    loss: str = "ce"
    switch_loss: str | None = None       # e.g. "focal" from epoch switch_epoch on
    switch_epoch: int | None = None
    focal_gamma: float = 2.0
    la_tau: float = 1.0                  # --loss logit_adjusted: tau in logits + tau * log(prior)
    posthoc_la: float = 0.0              # post-hoc logit adjustment at test time: logits - tau * log(prior); 0 = off
    drw_epoch: int | None = None         # deferred re-weighting: effective-number class weights from this epoch on
    drw_beta: float = 0.9999             # the effective number's beta (Cui et al.)
    ldam_margin: float = 0.5             # --loss ldam: the rarest class's margin (max_m)
    ldam_scale: float = 30.0             # --loss ldam: the cosine head's scale s
    cmo: float = 0.0                     # CMO: share of batches with a minority-sampled patch pasted on (0 = off)
    tta: tuple[str, ...] = ()            # test-time views for the run's final val/test scores (hflip, vflip, shift)
    clip_grad: float | None = None
    select: str = "macro_f1"             # the selection metric (checkpointing and early stopping)
    patience: int = 0                    # early stopping after this many epochs without improvement; 0 = off
    min_delta: float = 0.0
    seed: int = 0
    device: str = "auto"
    devices: int = 1                     # GPUs; > 1 uses DDP
    workers: int | None = None
    progress: bool = True
    tensorboard: bool = True             # TensorBoard event files in the run folder (needs the tensorboard package)
    resume: str | None = None            # a run folder: continue it exactly


# What a run made before an option existed trained with: filled in on --resume, so such a run resumes (gen.options'
# OPTIONS_BEFORE is the same rule for train-gan).
OPTIONS_BEFORE = {"synth_filter": "none", "synth_scorer": None, "synth_weight": 1.0, "real_last": 0, "la_tau": 1.0,
                  "posthoc_la": 0.0, "drw_epoch": None, "drw_beta": 0.9999, "ldam_margin": 0.5, "ldam_scale": 30.0,
                  "cmo": 0.0, "tta": []}

# Every numeric option's range (checked by clf.train.check_options, before any folder).
TRAIN_RANGES = {
    "val_fraction": VAL_FRACTION, "ratio": NON_NEGATIVE, "synth_weight": Range(0, 1, lo_open=True),
    "real_last": NON_NEGATIVE,
    "size": Range(16, why="the backbone downsamples its input up to 32 times"),
    "batch_size": BN_BATCH, "lr": POSITIVE, "momentum": PROBABILITY, "weight_decay": NON_NEGATIVE,
    "warmup_epochs": NON_NEGATIVE, "warmup_lr": NON_NEGATIVE, "min_lr": NON_NEGATIVE,
    "label_smoothing": Range(0, 1, hi_open=True), "mixup": NON_NEGATIVE, "cutmix": NON_NEGATIVE,
    "switch_epoch": NON_NEGATIVE, "focal_gamma": NON_NEGATIVE, "la_tau": POSITIVE, "posthoc_la": NON_NEGATIVE,
    "drw_epoch": AT_LEAST_1, "drw_beta": Range(0, 1, lo_open=True, hi_open=True), "ldam_margin": POSITIVE,
    "ldam_scale": POSITIVE, "cmo": PROBABILITY, "clip_grad": POSITIVE, "patience": NON_NEGATIVE,
    "min_delta": NON_NEGATIVE, "seed": SEED, "devices": AT_LEAST_1, "workers": WORKERS,
}
# Options naming files or folders: compared resolved on --resume (a relative and an absolute spelling agree).
TRAIN_PATHS = ("data.data", "data.image_root", "data.class_table", "val_data", "test_data", "synth", "synth_scorer",
               "weights")
PREDICT_RANGES = {"batch_size": AT_LEAST_1, "workers": WORKERS, "posthoc_la": NON_NEGATIVE}


@dataclass
class PredictOptions:
    """`predict`: a trained run applied to a folder of images."""

    model: str                           # run folder or checkpoint file
    images: str
    out: str | None = None               # preds.json ({"label_as": form, "predictions": {file: label}})
    probs: str | None = None             # probs.csv (file + one column per class)
    tta: tuple[str, ...] = ()            # hflip, vflip
    checkpoint: str = "auto"             # auto (best.pt, else last.pt) | best | last
    batch_size: int = 64
    device: str = "auto"
    workers: int = 0
    label_as: str | None = None          # name | index | id; None: id when trained with dataset ids, else name
    skip_bad: bool = False               # leave unreadable images out and list them
    posthoc_la: float | None = None      # logits - tau * log(training prior); None: the run's own (train --posthoc-la)


@dataclass
class SubmitOptions:
    """`submit`: a Kaggle-style CSV in a template's row order and column names."""

    model: str
    images: str
    out: str
    template: str | None = None
    id_column: str | None = None         # default: the template column that names the test images, else "id"
    label_column: str | None = None      # default: the template's first other column, else "label"
    label_as: str | None = None          # name | index | id; None: id when trained with dataset ids, else name
    tta: tuple[str, ...] = ()
    checkpoint: str = "auto"             # auto (best.pt, else last.pt) | best | last
    batch_size: int = 64
    device: str = "auto"
    workers: int = 0
    skip_bad: bool = False               # unreadable images: listed, and given the most frequent label
    encoding: str | None = None          # the template's, when not UTF-8 (e.g. cp1251)
    posthoc_la: float | None = None      # logits - tau * log(training prior); None: the run's own (train --posthoc-la)


def prior_corrections(o) -> list[str]:
    """The options of `o` (TrainOptions, or a run's options dict) that each correct for the class prior."""
    get = o.get if isinstance(o, dict) else lambda k, d=None: getattr(o, k, d)
    kinds = {get("loss", "ce"), get("switch_loss")}
    out = [f"--loss {k}" for k in sorted(kinds & {*PRIOR_LOSSES, "ldam"}, key=str)]  # LDAM's margins, with its DRW
    out += [flag for flag, on in (("--balanced-sampler", get("balanced_sampler", False)),
                                  ("--class-weighted", get("class_weighted", False)),
                                  ("--drw-epoch", get("drw_epoch") is not None and "ldam" not in kinds),
                                  ("--posthoc-la", (get("posthoc_la", 0.0) or 0.0) > 0)) if on]
    return out
