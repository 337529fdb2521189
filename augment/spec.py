"""DataSpec: how to find a dataset (shared by every command that reads labelled images), and loading it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from augment.labels import LabelMap
from augment.manifest import load_manifest, refuse_empty
from augment.validate import validate


@dataclass
class DataSpec:
    """A folder (class-per-folder or category/class) or a CSV, with the CSV's column options."""

    data: str
    image_root: str | None = None
    path_column: str | None = None
    label_column: str | None = None
    category_column: str | None = None
    class_table: str | None = None
    skip_bad: bool = False
    encoding: str | None = None          # of the CSV files (data, class table); None: UTF-8


def check_spec(spec: DataSpec) -> None:
    """What can be refused without reading the data: an empty --data, an encoding Python does not know."""
    from common.csvfile import check_encoding

    refuse_empty(spec.data)
    check_encoding(spec.encoding)


def load_dataset(spec: DataSpec, label_map: LabelMap | None = None, report_dir: str | Path | None = None,
                 progress: bool = True) -> tuple[pd.DataFrame, LabelMap]:
    """Load and validate a labelled dataset; the label map is built from it unless one is given."""
    check_spec(spec)
    df = load_manifest(spec.data, spec.image_root, spec.path_column, spec.label_column, spec.category_column,
                       spec.class_table, encoding=spec.encoding)
    report = Path(report_dir) / "bad_files.csv" if report_dir else None
    df = validate(df, label_map, skip_bad=spec.skip_bad, report_path=report, progress=progress)
    if label_map is None:
        label_map = LabelMap.from_labels(df["label"], df["category"], df.get("label_id"))
    return df, label_map
