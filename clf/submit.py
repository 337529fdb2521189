"""`submit`: a Kaggle-style CSV, in the template's row order and with its column names."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from common.errors import UserError


def _match_ids(ids: list[str], keys: list[str]) -> tuple[list[int | None], list[str]]:
    """Template id → prediction row: by relative path, then file name, then file name without extension."""
    by = [{k: i for i, k in enumerate(keys)},
          {Path(k).name: i for i, k in enumerate(keys)},
          {Path(k).stem: i for i, k in enumerate(keys)}]
    rows, missing = [], []
    for t in ids:
        i = next((m[t] for m in by if t in m), None)
        if i is None:
            missing.append(t)
        rows.append(i)
    return rows, missing


def _refuse_missing(missing: list[str], images: str) -> None:
    if missing:
        raise UserError(f"--template lists {len(missing)} files not in {images} (e.g. {', '.join(missing[:5])}); "
                        "pass the folder holding every test image")


def _id_column(template: pd.DataFrame, asked: str | None, keys: list[str], source: str) -> str:
    """The template column naming test images: as asked, else the column whose values match the most images."""
    cols = list(template.columns)
    if asked:
        if asked not in cols:
            raise UserError(f"--id-column {asked!r}: not a column of {source} ({', '.join(cols)}); name the right one")
        return asked
    hits = {c: len(template) - len(_match_ids(template[c].astype(str).tolist(), keys)[1]) for c in cols}
    best = max(cols, key=lambda c: (hits[c], -cols.index(c)))
    if hits[best] == 0:
        raise UserError(f"--template {source}: no column names the test images (columns: {', '.join(cols)}; "
                        f"e.g. {template.iloc[0, 0]!r} is not a file in the image folder); pass the folder holding "
                        "the test images, or name the file column with --id-column")
    return best


def submit(opts) -> int:
    """Predict every image and write the submission; returns its number of rows."""
    from clf.options import PREDICT_RANGES
    from clf.predict import image_frame, run_predict
    from common.atomic import atomic_path
    from common.csvfile import check_encoding, read_csv
    from common.outputs import check_out_file
    from common.ranges import check_ranges

    check_ranges(opts, PREDICT_RANGES)
    check_encoding(opts.encoding)
    check_out_file(opts.out)
    template = None
    if opts.template:
        if not Path(opts.template).is_file():
            raise UserError(f"--template {opts.template}: file not found; pass the competition's sample_submission.csv")
        template = read_csv(opts.template, "template", opts.encoding, rows="one row per test image")
    if template is not None:  # settle the columns and refuse missing files before the (long) prediction
        keys = image_frame(opts.images)[1]
        id_col = _id_column(template, opts.id_column, keys, opts.template)
        others = [c for c in template.columns if c != id_col]
        label_col = opts.label_column or (others[0] if others else "label")  # an id-only template gains a column
        _refuse_missing(_match_ids(template[id_col].astype(str).tolist(), keys)[1], opts.images)
    else:
        id_col, label_col = opts.id_column or "id", opts.label_column or "label"
    p = run_predict(opts.model, opts.images, opts.tta, opts.checkpoint, opts.batch_size, opts.device, opts.workers,
                    label_as=opts.label_as, skip_bad=opts.skip_bad, posthoc_la=opts.posthoc_la)
    value = [p.labels[i] for i in p.probs.argmax(1)]
    if template is not None:
        # A skipped (unreadable) image still needs a row: it gets the most frequent prediction, and is listed.
        fill = pd.Series(value).mode().iloc[0] if value else p.labels[0]
        by_key = dict(zip(p.keys, value)) | {k: fill for k in p.skipped}
        rows, missing = _match_ids(template[id_col].astype(str).tolist(), list(by_key))
        _refuse_missing(missing, opts.images)
        out = template.copy()
        labels = list(by_key.values())
        out[label_col] = [labels[i] for i in rows]
        if p.skipped:
            print(f"{len(p.skipped)} skipped images got the most frequent label {fill} in the submission")
    else:
        out = pd.DataFrame({id_col: p.keys, label_col: value})
        if p.skipped:
            print(f"{len(p.skipped)} skipped images have no row (no --template asks for them)")
    with atomic_path(opts.out) as tmp:
        out.to_csv(tmp, index=False)
    return len(out)
