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


def submit(opts) -> int:
    """Predict every image and write the submission; returns its number of rows."""
    from clf.predict import run_predict
    from common.atomic import atomic_path

    template = None
    if opts.template:
        if not Path(opts.template).is_file():
            raise UserError(f"--template {opts.template}: file not found; pass the competition's sample_submission.csv")
        template = pd.read_csv(opts.template, dtype=str, keep_default_na=False)
        if template.empty:
            raise UserError(f"--template {opts.template}: no rows; it should list one test image per row")
    cols = list(template.columns) if template is not None else []
    id_col = opts.id_column or (cols[0] if cols else "id")
    label_col = opts.label_column or (cols[1] if len(cols) > 1 else "label")
    if template is not None:
        for what, c in (("--id-column", id_col), ("--label-column", label_col)):
            if c not in cols and not (what == "--label-column" and opts.label_column):
                raise UserError(f"{what} {c!r}: not a column of {opts.template} ({', '.join(cols)}); name the right one")

    if template is not None:  # refuse before the (long) prediction, not after
        from clf.predict import image_frame

        _, missing = _match_ids(template[id_col].astype(str).tolist(), image_frame(opts.images)[1])
        _refuse_missing(missing, opts.images)
    keys, probs, lm = run_predict(opts.model, opts.images, opts.tta, opts.checkpoint, opts.batch_size, opts.device,
                                  opts.workers)
    pred = probs.argmax(1)
    value = [int(i) if opts.label_as == "index" else lm.names[i] for i in pred]
    if template is not None:
        rows, missing = _match_ids(template[id_col].astype(str).tolist(), keys)
        _refuse_missing(missing, opts.images)
        out = template.copy()
        out[label_col] = [value[i] for i in rows]
    else:
        out = pd.DataFrame({id_col: keys, label_col: value})
    with atomic_path(opts.out) as tmp:
        out.to_csv(tmp, index=False)
    return len(out)
