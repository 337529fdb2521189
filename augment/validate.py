"""Validation on load: every bad file or class gets one clear line; --skip-bad drops them into a report."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from common.progress import progress_bar

from augment.images import check_image
from augment.labels import LabelMap
from common.atomic import atomic_path
from common.errors import UserError


@dataclass
class Problem:
    """One bad item: the file or class, what is wrong, and the fix."""

    item: str
    reason: str
    fix: str

    def line(self) -> str:
        return f"{self.item}: {self.reason}; {self.fix}"


def find_problems(df: pd.DataFrame, label_map: LabelMap | None = None, check_pixels: bool = True,
                  progress: bool = False) -> list[Problem]:
    """Missing/zero-byte/corrupt files, duplicate paths, labels not in the map, empty classes."""
    problems: list[Problem] = []
    for cls in df.attrs.get("empty_classes", []):
        problems.append(Problem(f"class {cls!r}", "empty class (no images)", "add images or remove the folder"))
    dup = df["path"].duplicated(keep="first")
    for p in df.loc[dup, "path"]:
        problems.append(Problem(p, "duplicate path", "list each file once"))
    if label_map is not None:
        known = set(label_map.names)
        for p, lab in zip(df["path"], df["label"]):
            if lab is not None and lab == lab and lab not in known:
                problems.append(Problem(p, f"label {lab!r} is not in the label map",
                                        f"use one of: {', '.join(label_map.names)}"))
    if check_pixels:
        for p in progress_bar(df.loc[~dup, "path"], desc="checking images", disable=not progress, leave=False):
            reason = check_image(p)
            if reason:
                fix = ("fix the path, or pass --image-root" if reason == "missing file"
                       else "replace or delete the file")
                problems.append(Problem(p, reason, fix))
    return problems


def validate(df: pd.DataFrame, label_map: LabelMap | None = None, skip_bad: bool = False,
             report_path: str | Path | None = None, check_pixels: bool = True,
             progress: bool = False, quiet: bool = False) -> pd.DataFrame:
    """Return the clean manifest; refuse bad input unless `skip_bad`, which drops and reports it.

    Raises:
        UserError: naming the first problem and how many there are, when `skip_bad` is False.
    """
    problems = find_problems(df, label_map, check_pixels, progress)
    if problems and not skip_bad:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise UserError(problems[0].line() + more + "; or pass --skip-bad to drop them into a report")
    # A duplicate keeps its first copy (dropped below); only unreadable or unknown files go entirely.
    bad_paths = {p.item for p in problems if not p.item.startswith("class ") and p.reason != "duplicate path"}
    clean = df[~df["path"].isin(bad_paths)]
    clean = clean[~clean["path"].duplicated(keep="first")].reset_index(drop=True)
    if label_map is not None:
        clean = clean[clean["label"].isin(label_map.names) | clean["label"].isna()].reset_index(drop=True)
    if len(clean) == 0:  # refused before the report is written: a refused command leaves nothing in its output
        first = (f": {problems[0].line()}" + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
                 if problems else "")
        raise UserError(f"no usable images left after validation{first}; check the data folder or CSV")
    if problems and report_path is not None:
        with atomic_path(report_path) as tmp:
            pd.DataFrame([p.__dict__ for p in problems]).to_csv(tmp, index=False)
    if problems and not quiet:
        print(f"skipped {len(problems)} bad items" + (f"; listed in {report_path}" if report_path else ""))
    labelled = clean["label"].dropna()
    emptied = sorted(set(df["label"].dropna()) - set(labelled))
    if emptied and not skip_bad:
        raise UserError(f"classes {', '.join(emptied)} have no usable images; add images or remove them")
    clean.attrs["problems"] = [p.__dict__ for p in problems]
    return clean
