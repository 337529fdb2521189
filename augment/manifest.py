"""Datasets as manifests: one DataFrame schema built from folders or CSV files.

Schema (fixed): path (absolute str), label (class name, None when unlabeled), category (str or None),
source ("real" | "synthetic"). Extra columns are kept (synthetic manifests add gan_run, checkpoint, seed; a CSV
whose labels are ids adds label_id, the dataset's own id of each row's class).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from augment.images import is_image_file
from common.csvfile import ENCODING_OPTION, read_csv, refuse_blank
from common.errors import UserError

COLUMNS = ("path", "label", "category", "source")

# Common column names seen in competition CSVs, most specific first (auto-detection).
PATH_COLUMNS = ("path", "filepath", "file_path", "image_path", "filename", "file_name", "file", "fname",
                "image_name", "image", "img", "image_id", "id")
LABEL_COLUMNS = ("label", "label_name", "class_name", "class", "label_id", "class_id", "target", "y",
                 "genre", "species", "character", "breed")
CATEGORY_COLUMNS = ("category", "group", "superclass", "super_class", "parent")


def _frame(paths, labels, categories=None, source="real") -> pd.DataFrame:
    n = len(paths)
    return pd.DataFrame({
        "path": [str(p) for p in paths],
        "label": [None if lab is None else str(lab) for lab in labels],
        "category": list(categories) if categories is not None else [None] * n,
        "source": [source] * n,
    }, columns=list(COLUMNS)).astype({"path": object, "label": object, "category": object})


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))


def from_folder(root: str | Path) -> pd.DataFrame:
    """One subfolder per class; or two levels (category/class/image). Empty class folders are recorded.

    Empty classes are listed in `df.attrs["empty_classes"]` for validation to report.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: data folder not found; pass a folder with one subfolder per class, or a CSV")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        if _images_in(root):
            raise UserError(f"{root}: images but no class subfolders; put each class in its own folder "
                            "(or use it as an unlabeled test folder)")
        raise UserError(f"{root}: no class subfolders and no images; point --data at your image folder")
    two_level = all(not _images_in(d) and any(c.is_dir() for c in d.iterdir()) for d in subdirs)
    paths, labels, cats, empty = [], [], [], []
    groups = ([(d.name, c) for d in subdirs for c in sorted(x for x in d.iterdir() if x.is_dir())]
              if two_level else [(None, d) for d in subdirs])
    for cat, d in groups:
        files = _images_in(d)
        if not files:
            empty.append(d.name)
        for f in files:
            paths.append(f.resolve())
            labels.append(d.name)
            cats.append(cat)
    df = _frame(paths, labels, cats)
    df.attrs["empty_classes"] = empty
    return df


def from_unlabeled(root: str | Path) -> pd.DataFrame:
    """A folder of unlabeled images (test sets for prediction), searched recursively."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: image folder not found; pass the folder of test images")
    files = sorted(p.resolve() for p in root.rglob("*") if p.is_file() and is_image_file(p))
    if not files:
        raise UserError(f"{root}: no images found (.jpg/.png/.bmp/.webp); pass the folder of test images")
    return _frame(files, [None] * len(files))


def _pick(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, option: str,
          source: str) -> str | None:
    if wanted:
        if wanted not in columns:
            raise UserError(f"{source}: no column {wanted!r} (columns: {', '.join(columns)}); fix {option}")
        return wanted
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    if what == "category":
        return None
    raise UserError(f"{source}: cannot tell which column holds the {what} (columns: {', '.join(columns)}); "
                    f"name it with {option}")


def read_class_table(path: str | Path, encoding: str | None = None,
                     encoding_option: str | None = ENCODING_OPTION) -> dict[str, tuple[str, str | None]]:
    """A class-name table: id → (name, category). Columns auto-detected (id/label_id/class_id, name, category)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: class table not found; fix --class-table")
    t = read_csv(path, "class table", encoding, encoding_option, rows="one row per class (id, name)")
    idc = _pick(list(t.columns), None, ("id", "label_id", "class_id", "index", "label"), "class id",
                "a column named id", str(path))
    namec = _pick(list(t.columns), None, ("name", "class_name", "label_name", "genre", "class"), "class name",
                  "a column named name", str(path))
    catc = _pick(list(t.columns), None, CATEGORY_COLUMNS, "category", "", str(path))
    refuse_blank(t, idc, path, "class id")
    refuse_blank(t, namec, path, "class name")
    return {str(r[idc]).strip(): (str(r[namec]).strip(), (str(r[catc]).strip() or None) if catc else None)
            for _, r in t.iterrows()}


def from_csv(csv: str | Path, image_root: str | Path | None = None, path_col: str | None = None,
             label_col: str | None = None, category_col: str | None = None,
             class_table: str | Path | None = None, encoding: str | None = None,
             encoding_option: str | None = ENCODING_OPTION) -> pd.DataFrame:
    """A CSV of file names and labels (+ optional category), image paths relative to `image_root`.

    `image_root` defaults to the CSV's folder. With `class_table`, label ids are mapped to names
    (and categories) through it (the Russian-art layout: image_name,label_id + a class table).
    Both files are read by common.csvfile (one line for an empty, ragged or non-UTF-8 file).
    """
    csv = Path(csv)
    if not csv.exists():
        raise UserError(f"{csv}: CSV not found; fix --data")
    t = read_csv(csv, "CSV", encoding, encoding_option, rows="one row per image")
    cols = list(t.columns)
    pc = _pick(cols, path_col, PATH_COLUMNS, "image file names", "--path-column", str(csv))
    lc = _pick(cols, label_col, [c for c in LABEL_COLUMNS if c != pc.lower()], "labels", "--label-column", str(csv))
    cc = _pick(cols, category_col, [c for c in CATEGORY_COLUMNS if c not in (pc.lower(), lc.lower())],
               "category", "--category-column", str(csv))
    refuse_blank(t, pc, csv, "file name")
    refuse_blank(t, lc, csv, "label")  # a blank label would become a class named ''
    root = Path(image_root) if image_root else csv.parent
    paths = [p if Path(p).is_absolute() else (root / p) for p in t[pc].astype(str)]
    paths = [str(Path(p).resolve()) for p in paths]
    labels = [s.strip() for s in t[lc].astype(str)]
    cats = [(s.strip() or None) for s in t[cc].astype(str)] if cc else [None] * len(t)
    # Integer labels, or ids looked up in a class table, are the dataset's own ids: a submission is scored in them.
    ids = labels if class_table or all(_is_int(s) for s in labels) else None
    if class_table:
        table = read_class_table(class_table, encoding, encoding_option)
        unknown = sorted(set(labels) - set(table))
        if unknown:
            raise UserError(f"{csv}: label ids {', '.join(unknown[:5])} are not in the class table {class_table}; "
                            "add them to the table or fix the CSV")
        cats = [table[lab][1] or c for lab, c in zip(labels, cats)]
        labels = [table[lab][0] for lab in labels]
    df = _frame(paths, labels, cats, source="real")
    if ids is not None:
        df["label_id"] = ids
    if "source" in t.columns:
        df["source"] = [s or "real" for s in t["source"]]
    for extra in ("gan_run", "checkpoint", "seed", "score"):  # what `synth` and its scorer wrote
        if extra in t.columns:
            df[extra] = t[extra].values
    df.attrs["empty_classes"] = []
    return df


def _is_int(s: str) -> bool:
    return s.lstrip("-").isdigit()


def refuse_empty(spec: str | Path) -> None:
    """Path("") is the current folder: its subfolders would be taken for classes (and blamed as empty ones)."""
    if not str(spec).strip():
        raise UserError("--data '': empty; pass a folder with one subfolder per class, or a CSV")


def load_manifest(spec: str | Path, image_root: str | Path | None = None, path_col: str | None = None,
                  label_col: str | None = None, category_col: str | None = None,
                  class_table: str | Path | None = None, unlabeled: bool = False, encoding: str | None = None,
                  encoding_option: str | None = ENCODING_OPTION) -> pd.DataFrame:
    """Build a manifest from a class-per-folder dir, a two-level dir, a CSV, or an unlabeled folder.

    `encoding` is the CSV's (None: UTF-8); `encoding_option` the option that sets it on this command, or None.
    """
    refuse_empty(spec)
    spec = Path(spec)
    if unlabeled:
        return from_unlabeled(spec)
    if spec.is_dir():
        return from_folder(spec)
    if spec.suffix.lower() in (".csv", ".tsv", ".txt"):
        return from_csv(spec, image_root, path_col, label_col, category_col, class_table, encoding, encoding_option)
    if not spec.exists():
        raise UserError(f"{spec}: not found; pass a folder with one subfolder per class, or a CSV of files and labels")
    raise UserError(f"{spec}: not a folder or a .csv file; pass a folder with one subfolder per class, or a CSV")


def save_manifest(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a manifest CSV atomically (reloadable with `load_manifest`)."""
    from common.atomic import atomic_path

    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def class_counts(df: pd.DataFrame) -> pd.Series:
    """Images per class, largest first."""
    return df["label"].value_counts().sort_values(ascending=False)
