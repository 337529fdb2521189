"""Ablation configs (`experiments/configs/NAME.yaml`) read into one validated dataclass.

Relative paths in a config are relative to the repository root (where cli.py lives), so a config names
`../shared/data/cifar10-jpg.tar.gz` the same way from any working directory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from augment.mixing import ratio_label
from common.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_SEEDS = 3  # a t-interval from 2 seeds is ±12.7 s.e.; 3 is the least that says anything
PREPARE_KINDS = ("demo", "cifar10_subset", "photos30")


@dataclass
class DataConfig:
    """Where the real images are: paths, or a `prepare` recipe that materialises them (see data_prep.py)."""

    train: str | None = None
    test: str | None = None
    val: float = 0.2                     # stratified fraction of train, used when val_data is None
    val_data: str | None = None
    prepare: dict | None = None          # {kind: demo|cifar10_subset|photos30, ...}
    reference: str | None = None         # a balanced real set no arm trains on: the generators' reference judge
                                         # (cifar10_subset makes one with reference_per_class)


@dataclass
class GanConfig:
    """The generator to draw from: an existing synth folder (+ its run), or options to train one."""

    run: str | None = None               # an existing train-gan run folder (recorded; used to synth if no synth)
    synth: str | None = None             # an existing synth folder with manifest.csv
    train: dict | None = None            # GanOptions fields, e.g. {steps: 2000, size: 32} -> train-gan once, cached
    synth_n: int | str = "auto"          # images per class; auto = enough for the largest ratio / balance
    synth_options: dict = field(default_factory=dict)   # SynthOptions fields, e.g. {batch: 128}


@dataclass
class FidConfig:
    """Generator quality beside its usefulness: `cli.py fid` of the synth folder against real images."""

    enabled: bool = True
    metrics: str = "fid,kid"
    extractor: str = "inception"
    real: str = "train"                  # train | test: which real set the fakes are compared with
    options: dict = field(default_factory=dict)   # FidOptions fields, e.g. {resize: 32, n: 1000}


@dataclass
class ClassifierConfig:
    """Options held fixed across the grid: the model, and any other TrainOptions field under `options`."""

    model: str = "resnet18"
    epochs: int = 10
    size: int | None = None
    pretrained_weights: str = "hub"         # where grid.pretrained: on takes weights from: hub | lite0-imagenet
    options: dict = field(default_factory=dict)   # TrainOptions fields, e.g. {batch_size: 64, lr: 0.002}
    timeout_s: float | None = None          # per cell; a cell over it is recorded as failed
    # The from-scratch arm's own recipe (grid.pretrained: off cells), over the fields above: {model, epochs, size,
    # options}; e.g. a CIFAR-stem ResNet for 40 epochs, where the pretrained backbone would learn nothing from scratch.
    scratch: dict | None = None

    def recipe(self, pretrained: bool) -> dict:
        """{model, epochs, size, options} of a cell: the scratch recipe over the shared one for from-scratch cells."""
        base = {"model": self.model, "epochs": self.epochs, "size": self.size, "options": dict(self.options or {})}
        if pretrained or not self.scratch:
            return base
        over = dict(self.scratch)
        return {**base, **{k: over[k] for k in ("model", "epochs", "size") if k in over},
                "options": {**base["options"], **(over.get("options") or {})}}


@dataclass
class CasConfig:
    """Classification Accuracy Score (Ravuri & Vinyals 2019): train on synthetic only, test on real."""

    enabled: bool = True
    aug: str | None = None               # default: the grid's first preset
    pretrained: bool | None = None       # default: the grid's first value
    seeds: list[int] | None = None       # default: the grid's seeds


@dataclass
class HeadroomConfig:
    """Before any GAN: the classifier recipe on fractions of the real images per class (and on all of them: the
    grid's real-only cells), a power law of error in n, and what twice the real images would add (issue 32)."""

    enabled: bool = False
    fractions: list[float] = field(default_factory=lambda: [0.25, 0.5])   # of every class's images, below 1
    min_gain: float = 0.01               # below this gain in the metric, synthetic images are unlikely to pay


@dataclass
class SlurmConfig:
    """Resources per cell on a Slurm cluster (submitit's executor); command-line options override these."""

    partition: str | None = None
    time_min: int = 240                  # per cell (and per preparation job)
    gpus_per_cell: int = 1
    cpus_per_cell: int = 8
    mem_gb: int | None = None
    array_parallelism: int = 64          # most cells running at once (--jobs overrides)
    extra: dict = field(default_factory=dict)   # any other submitit slurm_* parameter, e.g. {account: lab}


@dataclass
class AblationConfig:
    """One ablation: data, generator, grid axes (ratios × filters × weights × real-only epochs × remedies × augs ×
    pretrained × seeds), classifier, CAS."""

    name: str
    data: DataConfig
    gan: GanConfig
    ratios: list[str]                    # normalised labels: "0", "0.25", "1", "balance"
    augs: list[str]
    pretrained: list[bool]
    seeds: list[int]
    classifier: ClassifierConfig
    cas: CasConfig
    fid: FidConfig
    metric: str = "test_acc"             # the metric the verdict line is about
    filters: list[str] = field(default_factory=lambda: ["none"])   # "none" or a min confidence label, "0.5"
    remedies: list[str] = field(default_factory=lambda: ["none"])  # real-data remedies beside ratio 0 (REMEDIES)
    gan_seeds: list[int] | None = None   # one generator per seed (the GAN is part of the treatment); None: one GAN
    weights: list[str] = field(default_factory=lambda: ["1"])      # synthetic images' loss weights ("0.5")
    real_lasts: list[int] = field(default_factory=lambda: [0])     # last epochs on real images only
    synth_remedies: list[str] = field(default_factory=lambda: ["none"])  # remedies used with the synthetic images
    headroom: HeadroomConfig = field(default_factory=HeadroomConfig)
    slurm: SlurmConfig = field(default_factory=SlurmConfig)
    source: str | None = None

    def grid_dict(self) -> dict:
        """Everything that defines the cells' results (compared on --resume)."""
        import dataclasses
        d = dataclasses.asdict(self)
        d.pop("source", None)
        d.pop("slurm", None)  # where cells run does not change what they measure
        if not self.headroom.enabled:
            d.pop("headroom")  # configs from before the stage compare equal
        d["classifier"].pop("timeout_s", None)
        if d["classifier"].get("scratch") is None:
            d["classifier"].pop("scratch", None)  # configs from before the scratch recipe compare equal
        for axis, default in AXIS_DEFAULTS.items():
            if d[axis] == default:
                d.pop(axis)  # configs from before these axes compare equal on --resume
        return d


VERDICT_METRICS = ("test_acc", "test_macro_f1")  # what every cell reports on the held-out test set
GRID_AXES = ("ratios", "filter", "weight", "real_last", "remedy", "synth_remedy", "gan_seeds", "augs", "pretrained",
             "seeds")
# Axes a config may leave out, at the value that means "not varied": grid_dict drops them there, so configs from
# before an axis existed compare equal on --resume.
AXIS_DEFAULTS = {"filters": ["none"], "remedies": ["none"], "gan_seeds": None, "weights": ["1"], "real_lasts": [0],
                 "synth_remedies": ["none"]}


@dataclass(frozen=True)
class EpochShare:
    """An epoch option given as a share of the recipe's epochs (DRW switches at 160 of 200 in the reference)."""

    share: float

    def of(self, epochs: int) -> int:
        return max(1, int(self.share * epochs))


# Real-data remedies for imbalance, run at ratio 0 beside real only: the non-synthetic baselines synthetic data must
# beat. Each is the TrainOptions it turns on (an EpochShare is resolved against the cell's epochs: remedy_options).
# The long-tail ones are the field's (BagofTricks-LT's table; naver-ai/cmo's cifar_train.py settings).
REMEDIES = {"none": {}, "balanced_sampler": {"balanced_sampler": True}, "class_weighted": {"class_weighted": True},
            "epochs_x2": {},
            "balanced_softmax": {"loss": "balanced_softmax"},            # Ren et al. 2020
            "logit_adjusted": {"loss": "logit_adjusted", "la_tau": 1.0},  # Menon et al. 2021, the loss
            "posthoc_la": {"posthoc_la": 1.0},                          # Menon et al. 2021, at test time only
            "drw": {"drw_epoch": EpochShare(0.8)},                      # Cao et al. 2019, effective-number weights
            "ldam_drw": {"loss": "ldam", "drw_epoch": EpochShare(0.8)},  # Cao et al. 2019
            "cmo": {"cmo": 0.5},                                        # Park et al. 2022, cross-entropy
            "cmo_bs": {"cmo": 0.5, "loss": "balanced_softmax"},         # CMO with Balanced Softmax, as in its paper
            "balanced_softmax_x2": {"loss": "balanced_softmax"}}        # at twice the epochs (EPOCH_FACTOR)
# Real only at twice the epochs: as many steps as ratio 1 takes at the recipe's epochs, so a synthetic arm's gain is
# measured against equal training cost, not against half of it (the scratch recipe was not converged at 40 epochs).
# Balanced Softmax at twice the epochs is the long tail's strongest real-data arm at ratio 1's cost (it gains with the
# longer schedule where the class-weighted loss loses: BENCHMARKS.md, issue 29).
EPOCH_FACTOR = {"epochs_x2": 2, "balanced_softmax_x2": 2}


def remedy_options(remedy: str, epochs: int) -> dict:
    """The TrainOptions a remedy turns on in a cell of `epochs` epochs."""
    return {k: v.of(epochs) if isinstance(v, EpochShare) else v for k, v in REMEDIES[remedy].items()}


PRETRAINED_WEIGHTS = ("hub", "lite0-imagenet")


def resolve_path(p: str | None) -> str | None:
    """A config path made absolute against the repo root (~ expanded)."""
    if p is None:
        return None
    q = Path(str(p)).expanduser()
    return str(q if q.is_absolute() else (REPO_ROOT / q).resolve())


def load_config(path: str | Path) -> AblationConfig:
    """Read and validate a YAML config; every mistake is one UserError naming the key and the fix.

    This checks the config's own keys; `experiments.cells.load_ablation_config` also builds every part's options
    from it and runs the parts' checks (what `ablate` and `demo` load with).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--config {path}: no such file; see experiments/configs/ for examples")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise UserError(f"{path}: not valid YAML ({str(e).splitlines()[0]}); fix the syntax") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of keys (data, gan, grid, classifier); see experiments/configs/")
    cfg = from_dict(raw, default_name=path.stem)
    cfg.source = str(path.resolve())
    return cfg


def from_dict(raw: dict, default_name: str = "ablation") -> AblationConfig:
    """Build an AblationConfig from a parsed YAML mapping."""
    known = {"name", "data", "gan", "grid", "classifier", "cas", "fid", "metric", "slurm", "headroom"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(f"config: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    data = _section(DataConfig, raw.get("data"), "data")
    gan = _section(GanConfig, raw.get("gan"), "gan")
    clf = _section(ClassifierConfig, raw.get("classifier"), "classifier")
    cas = _section(CasConfig, raw.get("cas"), "cas")
    headroom = _section(HeadroomConfig, raw.get("headroom"), "headroom")
    _check_headroom(headroom)
    fid = _section(FidConfig, raw.get("fid"), "fid")
    slurm = _section(SlurmConfig, raw.get("slurm"), "slurm")
    if slurm.extra:
        import submitit

        valid = submitit.SlurmExecutor._valid_parameters()  # what submitit's Slurm executor accepts
        bad = sorted(k for k in slurm.extra if k.removeprefix("slurm_") not in valid)
        if bad:
            raise UserError(f"config slurm.extra: unknown Slurm parameter(s) {', '.join(bad)}; submitit knows "
                            f"{', '.join(sorted(valid))}")
    grid = raw.get("grid") or {}
    if not isinstance(grid, dict):
        raise UserError("config grid: expected a mapping with ratios, augs, pretrained, seeds")
    bad = sorted(set(grid) - set(GRID_AXES))
    if bad:
        raise UserError(f"config grid: unknown key(s) {', '.join(bad)}; allowed: {', '.join(GRID_AXES)}")

    ratios = _unique([ratio_label(r) for r in _as_list(grid.get("ratios", [0, 0.5, 1, "balance"]))])
    if "0" not in ratios:
        raise UserError("config grid.ratios: must include 0 (the real-only baseline every ratio is paired with)")
    augs = _unique([str(a) for a in _as_list(grid.get("augs", ["basic"]))])
    from augment.presets import list_presets

    unknown = [a for a in augs if a not in list_presets()]
    if unknown:  # caught at load, so --dry-run refuses it too instead of every cell failing later
        raise UserError(f"config grid.augs: unknown preset(s) {', '.join(unknown)}; choose from "
                        f"{', '.join(list_presets())}")
    pretrained = _unique([_as_bool(v, "grid.pretrained") for v in _as_list(grid.get("pretrained", [False]))])
    seeds = _seeds(grid.get("seeds", [0, 1, 2]))
    filters = _unique([filter_label(f) for f in _as_list(grid.get("filter", ["none"]))])
    if len(seeds) < MIN_SEEDS:
        raise UserError(f"config grid.seeds: {len(seeds)} seed(s); list at least {MIN_SEEDS} so the CIs mean something")
    remedies = _unique([str(m) for m in _as_list(grid.get("remedy", ["none"]))])
    if set(remedies) - set(REMEDIES) or "none" not in remedies:
        raise UserError(f"config grid.remedy {remedies}: use none (real only, the baseline; required) plus any of "
                        f"{', '.join(k for k in REMEDIES if k != 'none')}")
    synth_remedies = _unique([str(m) for m in _as_list(grid.get("synth_remedy", ["none"]))])
    if set(synth_remedies) - set(REMEDIES):
        raise UserError(f"config grid.synth_remedy {synth_remedies}: use any of {', '.join(REMEDIES)} (none: the "
                        "synthetic images alone)")
    weights = _unique([weight_label(w) for w in _as_list(grid.get("weight", [1]))])
    _check_scratch(clf.scratch)
    shortest = min(int(clf.recipe(p)["epochs"]) for p in pretrained)
    real_lasts = _unique([_epochs(v, shortest) for v in _as_list(grid.get("real_last", [0]))])
    gan_seeds = _seeds(grid["gan_seeds"]) if grid.get("gan_seeds") is not None else None
    if gan_seeds == []:
        raise UserError("config grid.gan_seeds: empty; list the generator seeds, e.g. [0, 1], or leave the key out")

    _check_data(data)
    _check_gan(gan)
    _check_axes(gan, clf, [*remedies, *synth_remedies], gan_seeds)
    if cas.seeds is not None:
        cas.seeds = _seeds(cas.seeds)
    if cas.pretrained is not None:
        cas.pretrained = _as_bool(cas.pretrained, "cas.pretrained")
    if fid.real not in ("train", "test"):
        raise UserError(f"config fid.real {fid.real!r}: use train or test")
    if clf.pretrained_weights not in PRETRAINED_WEIGHTS:
        raise UserError(f"config classifier.pretrained_weights {clf.pretrained_weights!r}: use "
                        f"{' or '.join(PRETRAINED_WEIGHTS)}")
    metric = str(raw.get("metric", "test_acc"))
    if metric not in VERDICT_METRICS:
        raise UserError(f"config metric {metric!r}: the verdict can be about {' or '.join(VERDICT_METRICS)}")
    cfg = AblationConfig(name=str(raw.get("name") or default_name), data=data, gan=gan, ratios=ratios, augs=augs,
                         pretrained=pretrained, seeds=seeds, classifier=clf, cas=cas, fid=fid, metric=metric,
                         filters=filters, remedies=remedies, gan_seeds=gan_seeds, weights=weights,
                         real_lasts=real_lasts, synth_remedies=synth_remedies, headroom=headroom, slurm=slurm)
    return cfg


def filter_label(v) -> str:
    """none, a confidence a synthetic image must get from the real-data classifier ('0.5'), or a per-class top
    fraction ('top0.5'): augment.mixing.parse_filter, refused in the config's words."""
    from augment.mixing import parse_filter

    try:
        return parse_filter(v)
    except UserError:
        raise UserError(f"config grid.filter {v!r}: use none, a probability between 0 and 1 (e.g. 0.8), or a "
                        "per-class top fraction (e.g. top0.5); e.g. [none, 0.8, top0.5]") from None


def _check_headroom(h: HeadroomConfig) -> None:
    """headroom.fractions: distinct shares of each class in (0, 1) (1: the grid's own cells); min_gain >= 0."""
    fr = h.fractions if isinstance(h.fractions, list) else [h.fractions]
    try:
        fr = sorted({float(f) for f in fr})
    except (TypeError, ValueError):
        fr = []
    if not fr or not all(0 < f < 1 for f in fr):
        raise UserError(f"config headroom.fractions {h.fractions!r}: shares of each class's images between 0 and 1, "
                        "e.g. [0.25, 0.5] (the full set is the grid's own real-only cells)")
    h.fractions = fr
    if not isinstance(h.min_gain, (int, float)) or h.min_gain < 0:
        raise UserError(f"config headroom.min_gain {h.min_gain!r}: a gain in the metric, 0 or more, e.g. 0.01")


def _check_scratch(scratch) -> None:
    """classifier.scratch: {model: str, epochs: int >= 1, size: int, options: mapping}, any of them."""
    if scratch is None:
        return
    if not isinstance(scratch, dict) or set(scratch) - {"model", "epochs", "size", "options"}:
        raise UserError("config classifier.scratch: a mapping of model, epochs, size and options (the "
                        "from-scratch cells' recipe), e.g. {model: resnet10_cifar, epochs: 40}")
    if "model" in scratch and not isinstance(scratch["model"], str):
        raise UserError(f"config classifier.scratch.model {scratch['model']!r}: a timm model name")
    for key, lo in (("epochs", 1), ("size", 16)):
        v = scratch.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < lo):
            raise UserError(f"config classifier.scratch.{key} {v!r}: a whole number, at least {lo}")
    if not isinstance(scratch.get("options", {}), dict):
        raise UserError("config classifier.scratch.options: expected a mapping of train options")


def weight_label(v) -> str:
    """A synthetic loss weight in (0, 1] as its one spelling ('0.5')."""
    try:
        w = float(v)
    except (TypeError, ValueError):
        w = -1.0
    if not 0 < w <= 1:
        raise UserError(f"config grid.weight {v!r}: a synthetic image's loss weight in (0, 1], e.g. [1, 0.5, 0.25]")
    return f"{w:g}"


def _epochs(v, epochs: int) -> int:
    try:
        n = int(v)
    except (TypeError, ValueError):
        n = -1
    if not 0 <= n < epochs or str(v).strip() != str(n):
        raise UserError(f"config grid.real_last {v!r}: epochs at the end on real images only, a whole number from 0 "
                        f"to {epochs - 1} (classifier.epochs is {epochs})")
    return n


def _section(cls, raw, name: str):
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise UserError(f"config {name}: expected a mapping")
    fields = cls.__dataclass_fields__
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise UserError(f"config {name}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(fields)}")
    from common.runs import typed_values

    # cas.seeds ('0-2', 5) and cas.pretrained (on/off) have normalisers of their own, applied after this
    return cls(**typed_values(cls, raw, f"config {name}", skip=("seeds", "pretrained") if cls is CasConfig else ()))


def _check_data(d: DataConfig) -> None:
    if d.prepare is not None:
        if not isinstance(d.prepare, dict) or d.prepare.get("kind") not in PREPARE_KINDS:
            raise UserError(f"config data.prepare: needs kind: one of {', '.join(PREPARE_KINDS)}")
        return
    if not d.train or not d.test:
        raise UserError("config data: give train and test paths (the test set is scored only at the end), "
                        "or a prepare recipe")
    if not 0 < float(d.val) < 1 and d.val_data is None:
        raise UserError(f"config data.val {d.val}: must be a fraction in (0, 1), or give val_data")


def _check_gan(g: GanConfig) -> None:
    if g.synth is None and g.run is None and g.train is None:
        raise UserError("config gan: give synth (an existing synth folder), run (a train-gan run to synth from), "
                        "or train (options to train one)")
    if g.train is not None and not isinstance(g.train, dict):
        raise UserError("config gan.train: expected a mapping of train-gan options such as {steps: 2000, size: 32}")
    if g.synth_n != "auto" and (not isinstance(g.synth_n, int) or g.synth_n < 1):
        raise UserError(f"config gan.synth_n {g.synth_n!r}: use auto or a positive integer (images per class)")


def _check_axes(g: GanConfig, clf: ClassifierConfig, remedies: list[str], gan_seeds: list[int] | None) -> None:
    """The remedy and GAN-seed axes own the options they vary; a fixed value beside them would blur the arms."""
    owned = {o for m in remedies for o in REMEDIES[m]}
    fixed = sorted({k for p in (True, False) for k in clf.recipe(p)["options"] if str(k).replace("-", "_") in owned})
    if fixed:
        raise UserError(f"config classifier.options: {', '.join(fixed)} is a grid.remedy arm here; remove it from "
                        "options (or the remedy from the grid)")
    if gan_seeds is None:
        return
    if g.train is None or g.run is not None or g.synth is not None:
        raise UserError("config grid.gan_seeds: trains one generator per seed, so it needs gan.train and no gan.run "
                        "or gan.synth")
    if "seed" in g.train:
        raise UserError("config gan.train: seed is set by grid.gan_seeds here; remove it")


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _unique(xs: list) -> list:
    seen, out = set(), []
    for x in xs:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _as_bool(v, key: str) -> bool:
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("on", "true", "yes", "1"):
        return True
    if str(v).lower() in ("off", "false", "no", "0"):
        return False
    raise UserError(f"config {key}: {v!r} is not on/off (true/false)")


def _seeds(v) -> list[int]:
    from common.seeding import parse_seeds

    if isinstance(v, str):
        return _unique(parse_seeds(v))
    try:
        return _unique([int(s) for s in _as_list(v)])
    except (TypeError, ValueError):
        raise UserError(f"config seeds {v!r}: give a list of integers or a range like '0-2'") from None
