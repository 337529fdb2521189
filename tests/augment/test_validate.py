"""Bad input: one clear line naming the file or class and the fix; --skip-bad drops and reports."""
import pandas as pd
import pytest

from augment.labels import LabelMap
from augment.manifest import load_manifest
from augment.validate import validate
from common.errors import UserError
from tests.helpers import write_image


@pytest.fixture
def data(make_folder):
    return make_folder({"cat": 3, "dog": 3})


def _expect_error(df, pattern, **kw):
    with pytest.raises(UserError, match=pattern) as e:
        validate(df, **kw)
    assert "\n" not in str(e.value.message)
    assert "--skip-bad" in e.value.message


def test_clean_data_passes(data):
    df = load_manifest(data)
    assert len(validate(df)) == 6


def test_corrupt_image(data):
    (data / "cat" / "000.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    _expect_error(load_manifest(data), r"cat/000\.png: unreadable image")


def test_truncated_image(data):
    p = data / "dog" / "001.png"
    p.write_bytes(p.read_bytes()[:60])
    _expect_error(load_manifest(data), r"dog/001\.png: unreadable image")


def test_zero_byte_file(data):
    (data / "dog" / "000.png").write_bytes(b"")
    _expect_error(load_manifest(data), r"dog/000\.png: zero-byte file")


def test_missing_file_from_csv(tmp_path):
    write_image(tmp_path / "a.png")
    (tmp_path / "t.csv").write_text("filename,label\na.png,x\ngone.png,x\n")
    _expect_error(load_manifest(tmp_path / "t.csv"), r"gone\.png: missing file; fix the path, or pass --image-root")


def test_duplicate_path(tmp_path):
    write_image(tmp_path / "a.png")
    (tmp_path / "t.csv").write_text("filename,label\na.png,x\na.png,x\n")
    _expect_error(load_manifest(tmp_path / "t.csv"), "duplicate path")


def test_label_not_in_map(data):
    _expect_error(load_manifest(data), r"label 'dog' is not in the label map; use one of: cat",
                  label_map=LabelMap(("cat",)))


def test_empty_class(data):
    (data / "bird").mkdir()
    _expect_error(load_manifest(data), r"class 'bird': empty class")


def test_skip_bad_drops_and_reports(data, tmp_path):
    (data / "cat" / "000.png").write_bytes(b"")
    (data / "dog" / "002.png").write_bytes(b"garbage")
    (data / "bird").mkdir()
    report = tmp_path / "out" / "bad_files.csv"
    clean = validate(load_manifest(data), skip_bad=True, report_path=report)
    assert len(clean) == 4
    rows = pd.read_csv(report)
    assert len(rows) == 3
    assert {"item", "reason", "fix"} <= set(rows.columns)
    assert any("bird" in s for s in rows["item"])


def test_class_left_empty_after_dropping_is_an_error(make_folder):
    data = make_folder({"cat": 2, "dog": 1})
    (data / "dog" / "000.png").write_bytes(b"")
    with pytest.raises(UserError, match="dog"):
        validate(load_manifest(data))


def test_skip_bad_keeps_one_copy_of_a_duplicate(tmp_path):
    write_image(tmp_path / "a.png")
    write_image(tmp_path / "b.png", seed=1)
    (tmp_path / "t.csv").write_text("filename,label\na.png,x\na.png,x\nb.png,x\n")
    clean = validate(load_manifest(tmp_path / "t.csv"), skip_bad=True)
    assert sorted(p.rsplit("/", 1)[-1] for p in clean["path"]) == ["a.png", "b.png"]
