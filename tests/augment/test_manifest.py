"""Manifests from every layout users bring: folders, two-level folders, CSVs, unlabeled folders."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from augment.images import load_rgb
from augment.labels import LabelMap
from augment.manifest import COLUMNS, load_manifest, save_manifest
from common.errors import UserError
from tests.helpers import write_image


def test_folder_per_class(make_folder):
    root = make_folder({"cat": 4, "dog": 2})
    df = load_manifest(root)
    assert list(df.columns) == list(COLUMNS)
    assert df["label"].value_counts().to_dict() == {"cat": 4, "dog": 2}
    assert set(df["source"]) == {"real"} and df["category"].isna().all()


def test_two_level_folders_give_category_and_cyrillic_names(tmp_path):
    for cat, cls, n in [("Живопись", "батальный", 3), ("Живопись", "портрет", 2), ("Графика", "пейзаж", 2)]:
        for i in range(n):
            write_image(tmp_path / "art" / cat / cls / f"картина_{i}.jpg", seed=i)
    df = load_manifest(tmp_path / "art")
    assert dict(zip(df["label"], df["category"])) == {"батальный": "Живопись", "портрет": "Живопись",
                                                      "пейзаж": "Графика"}
    lm = LabelMap.from_labels(df["label"], df["category"])
    assert lm.hierarchical and lm.category_of("пейзаж") == "Графика"
    assert load_rgb(df["path"][0]).shape == (10, 12, 3)


def test_birds_style_csv_with_image_root(tmp_path):
    for i in range(4):
        write_image(tmp_path / "images" / f"{i:04d}.jpg", seed=i)
    (tmp_path / "gt.csv").write_text("filename,class_id\n0000.jpg,3\n0001.jpg,3\n0002.jpg,7\n0003.jpg,7\n")
    df = load_manifest(tmp_path / "gt.csv", image_root=tmp_path / "images")
    assert df["label"].tolist() == ["3", "3", "7", "7"]
    assert all(p.startswith(str(tmp_path / "images")) for p in df["path"])


def test_russian_art_csv_with_class_table(tmp_path):
    for i in range(3):
        write_image(tmp_path / "train" / f"img{i}.png", seed=i)
    (tmp_path / "train.csv").write_text("image_name,label_id\nimg0.png,0\nimg1.png,1\nimg2.png,0\n")
    (tmp_path / "classes.csv").write_text("id,name,category\n0,батальный,Живопись\n1,гравюра,Графика\n",
                                          encoding="utf-8")
    df = load_manifest(tmp_path / "train.csv", image_root=tmp_path / "train", class_table=tmp_path / "classes.csv")
    assert df["label"].tolist() == ["батальный", "гравюра", "батальный"]
    assert df["category"].tolist() == ["Живопись", "Графика", "Живопись"]


def test_csv_columns_by_option_and_wrong_column_is_named(tmp_path):
    write_image(tmp_path / "a.png")
    (tmp_path / "t.csv").write_text("pic,who\na.png,bart\n")
    df = load_manifest(tmp_path / "t.csv", path_col="pic", label_col="who")
    assert df["label"].tolist() == ["bart"]
    with pytest.raises(UserError, match=r"no column 'klass'.*--label-column"):
        load_manifest(tmp_path / "t.csv", path_col="pic", label_col="klass")
    with pytest.raises(UserError, match="cannot tell which column"):
        load_manifest(tmp_path / "t.csv")


def test_saved_manifest_round_trips(make_folder, tmp_path):
    df = load_manifest(make_folder({"a": 2, "b": 2}))
    save_manifest(df, tmp_path / "m.csv")
    back = load_manifest(tmp_path / "m.csv")
    assert back[["path", "label", "source"]].equals(df[["path", "label", "source"]])


def test_unlabeled_folder_is_recursive(tmp_path):
    write_image(tmp_path / "test" / "a.png")
    write_image(tmp_path / "test" / "sub" / "b.jpg")
    (tmp_path / "test" / "notes.txt").write_text("x")
    df = load_manifest(tmp_path / "test", unlabeled=True)
    assert len(df) == 2 and df["label"].isna().all()


def test_missing_data_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_manifest(tmp_path / "nope")
    (tmp_path / "flat").mkdir()
    write_image(tmp_path / "flat" / "x.png")
    with pytest.raises(UserError, match="no class subfolders"):
        load_manifest(tmp_path / "flat")


@pytest.mark.parametrize("mode,ext", [("L", ".png"), ("RGBA", ".png"), ("P", ".bmp"), ("RGB", ".webp"),
                                      ("RGB", ".jpg")])
def test_every_format_and_mode_reads_as_rgb(tmp_path, mode, ext):
    p = write_image(tmp_path / f"x{ext}", size=(9, 7), mode=mode)
    arr = load_rgb(p)
    assert arr.shape == (7, 9, 3) and arr.dtype == np.uint8


def test_rgba_transparency_becomes_white(tmp_path):
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "t.png")
    assert (load_rgb(tmp_path / "t.png") == 255).all()


def test_exif_orientation_is_honoured(tmp_path):
    im = Image.new("RGB", (20, 10), (255, 0, 0))
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    im.save(tmp_path / "rot.jpg", exif=exif)
    assert load_rgb(tmp_path / "rot.jpg").shape == (20, 10, 3)


def test_label_map_is_stable_and_refuses_unknown(tmp_path):
    lm = LabelMap.from_labels(["10", "2", "1", "2"])
    assert lm.names == ("1", "2", "10")
    lm.save(tmp_path / "labels.json")
    assert LabelMap.load(tmp_path) == lm
    with pytest.raises(UserError, match="unknown class 'x'; known classes: 1, 2, 10"):
        lm.index("x")


def test_class_under_two_categories_is_refused():
    with pytest.raises(UserError, match="two categories"):
        LabelMap.from_labels(["a", "a"], ["X", "Y"])


def test_csv_with_no_rows(tmp_path):
    (tmp_path / "e.csv").write_text("filename,label\n")
    with pytest.raises(UserError, match="no rows"):
        load_manifest(tmp_path / "e.csv")
    assert isinstance(pd.read_csv(tmp_path / "e.csv"), pd.DataFrame)
