"""The data commands a user runs first: demo export, inspect, split, augmentation preview."""
import json

import pandas as pd
from click.testing import CliRunner
from PIL import Image

from cli import cli


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _is_png(path):
    with Image.open(path) as im:
        return im.format == "PNG" and im.size[0] > 50


def test_inspect_writes_plots_and_summary(make_folder, tmp_path):
    data = make_folder({"bart": 6, "homer": 3, "lisa": 2})
    res = _run("data", "inspect", "--data", data, "--out", tmp_path / "eda")
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "eda" / "summary.json").read_text())
    assert s["counts_per_class"] == {"bart": 6, "homer": 3, "lisa": 2}
    assert s["num_images"] == 11 and s["imbalance_ratio"] == 3.0
    assert s["sizes"]["width"]["max"] == 12 and s["bad_files"] == []
    for name in ("class_balance.png", "samples.png", "sizes.png"):
        assert _is_png(tmp_path / "eda" / name)


def test_inspect_with_skip_bad_reports_bad_files(make_folder, tmp_path):
    data = make_folder({"a": 3, "b": 3})
    (data / "a" / "001.png").write_bytes(b"junk")
    res = _run("data", "inspect", "--data", data, "--out", tmp_path / "eda", "--skip-bad")
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "eda" / "summary.json").read_text())
    assert s["num_images"] == 5 and len(s["bad_files"]) == 1
    assert (tmp_path / "eda" / "bad_files.csv").exists()


def test_samples_grid_has_no_blank_band_under_its_title(make_folder, tmp_path):
    """20 classes make a tall grid: its title sits just above the first row, not inches above it."""
    import numpy as np

    data = make_folder({f"class{k:02d}": 2 for k in range(20)})
    res = _run("data", "inspect", "--data", data, "--out", tmp_path / "eda")
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "eda" / "samples.png") as im:
        grey = np.asarray(im.convert("L"))
    drawn = (grey < 250).any(axis=1)  # rows holding anything but the white background
    blank, longest = 0, 0
    for d in drawn:
        blank = 0 if d else blank + 1
        longest = max(longest, blank)
    pitch = len(grey) / 20  # the height one class's row takes
    assert drawn[: int(0.05 * len(grey))].any(), "the title is not at the top"
    assert longest < pitch / 2, f"a blank band of {longest} px rows (a class row is {pitch:.0f} px)"


def test_bad_input_fails_with_one_line_and_writes_nothing(make_folder, tmp_path):
    data = make_folder({"a": 3, "b": 3})
    (data / "b" / "000.png").write_bytes(b"")
    res = CliRunner().invoke(cli, ["data", "inspect", "--data", str(data), "--out", str(tmp_path / "eda")])
    assert res.exit_code == 2
    assert "000.png: zero-byte file" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "eda").exists()


def test_inspect_skip_bad_with_every_image_bad_leaves_nothing_in_out(make_folder, tmp_path):
    data = make_folder({"a": 2, "b": 1})
    for f in data.rglob("*.png"):
        f.write_bytes(b"junk")
    res = CliRunner().invoke(cli, ["data", "inspect", "--data", str(data), "--out", str(tmp_path / "eda"),
                                   "--skip-bad"])
    assert res.exit_code == 2, res.output
    assert "no usable images left" in res.output and "000.png" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "eda").exists()  # no bad_files.csv that the error line does not mention


def test_split_writes_stratified_csvs(make_folder, tmp_path):
    data = make_folder({"a": 10, "b": 5, "solo": 1})
    res = _run("data", "split", "--data", data, "--val", 0.2, "--seed", 0, "--out", tmp_path / "s")
    assert res.exit_code == 0, res.output
    train, val = pd.read_csv(tmp_path / "s" / "train.csv"), pd.read_csv(tmp_path / "s" / "val.csv")
    assert val["label"].value_counts().to_dict() == {"a": 2, "b": 1}
    assert len(train) == 13 and "solo" in res.output


def test_preview_grid_is_a_png(make_folder, tmp_path):
    data = make_folder({"a": 3, "b": 3})
    res = _run("augment", "preview", "--data", data, "--preset", "heavy", "--size", 32, "--out", tmp_path / "g.png")
    assert res.exit_code == 0, res.output
    assert _is_png(tmp_path / "g.png")
    _run("augment", "preview", "--data", data, "--preset", "heavy", "--size", 32, "--out", tmp_path / "h.png")
    _run("augment", "preview", "--data", data, "--preset", "heavy", "--size", 32, "--seed", 1, "--out", tmp_path / "i.png")
    assert (tmp_path / "g.png").read_bytes() == (tmp_path / "h.png").read_bytes()  # same seed, same picture
    assert (tmp_path / "g.png").read_bytes() != (tmp_path / "i.png").read_bytes()


def test_demo_export_is_real_mnist(tmp_path):
    res = _run("data", "demo", "--out", tmp_path / "mnist", "--per-class", 20, "--imbalance", 4)
    assert res.exit_code == 0, res.output
    counts = {d.name: len(list(d.glob("*.png"))) for d in (tmp_path / "mnist").iterdir() if d.is_dir()}
    assert counts["0"] == 20 and counts["9"] == 5 and len(counts) == 10
    with Image.open(tmp_path / "mnist" / "3" / "0000.png") as im:
        assert im.size == (28, 28) and im.mode == "L"


def test_demo_export_never_replaces_an_existing_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep")
    res = CliRunner().invoke(cli, ["data", "demo", "--out", str(tmp_path / "mine"), "--per-class", "2"])
    assert res.exit_code == 2 and "not empty" in res.output
    assert (tmp_path / "mine" / "precious.txt").read_text() == "keep"
