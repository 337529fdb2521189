"""A stable label map (index, name, category), saved beside every run and reused for prediction."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from common.atomic import write_json
from common.errors import UserError


@dataclass(frozen=True)
class LabelMap:
    """Ordered class names; `categories[i]` is the category of class i (or None).

    `ids[i]` is the dataset's own id of class i (a CSV's label_id), empty when the data had no ids: a submission
    in those ids is what a grader scores, and they need not be contiguous or in name order.
    """

    names: tuple[str, ...]
    categories: tuple[str | None, ...] = field(default=())
    ids: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.categories:
            object.__setattr__(self, "categories", (None,) * len(self.names))
        if len(set(self.names)) != len(self.names):
            raise UserError("label map: duplicate class names; each class needs a unique name")
        if len(self.categories) != len(self.names):
            raise UserError("label map: categories and names differ in length")
        if self.ids and (len(self.ids) != len(self.names) or len(set(self.ids)) != len(self.ids)):
            raise UserError("label map: class ids must be one per class and unique; fix the class table")

    @classmethod
    def from_labels(cls, labels: Iterable[str], categories: Iterable[str | None] | None = None,
                    ids: Iterable[str | None] | None = None) -> "LabelMap":
        """Sorted unique class names (a stable order across runs), with each class's category and dataset id."""
        labels = list(labels)
        cats = list(categories) if categories is not None else [None] * len(labels)
        id_list = list(ids) if ids is not None else [None] * len(labels)
        cat_of: dict[str, str | None] = {}
        id_of: dict[str, str | None] = {}
        for lab, cat, cid in zip(labels, cats, id_list):
            lab = str(lab)
            cat = None if cat is None or cat != cat else str(cat)  # NaN → None
            cid = None if cid is None or cid != cid else str(cid)
            if lab in cat_of and cat_of[lab] != cat:
                raise UserError(f"class {lab!r} appears under two categories ({cat_of[lab]!r}, {cat!r}); "
                                "give it one category")
            if lab in id_of and id_of[lab] != cid:
                raise UserError(f"class {lab!r} has two ids ({id_of[lab]!r}, {cid!r}); give each class one id")
            cat_of[lab], id_of[lab] = cat, cid
        names = tuple(sorted(cat_of, key=_natural_key))
        has_ids = all(id_of[n] is not None for n in names)
        return cls(names, tuple(cat_of[n] for n in names), tuple(id_of[n] for n in names) if has_ids else ())

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def hierarchical(self) -> bool:
        return any(c is not None for c in self.categories)

    def form(self, asked: str | None) -> str:
        """The form labels are written in: as asked, else the dataset's own ids when training had them, else names."""
        return asked or ("id" if self.ids else "name")

    def labels_as(self, form: str) -> list:
        """Every class in one output form: name, index (SynthMix's own order) or id (the dataset's ids)."""
        if form == "index":
            return list(range(self.num_classes))
        if form == "id":
            if not self.ids:
                raise UserError("--label-as id: this model was trained without dataset label ids (class folders or "
                                "a CSV of names); use --label-as name or index")
            return [int(i) if i.lstrip("-").isdigit() else i for i in self.ids]
        if form != "name":
            raise UserError(f"--label-as {form}: unknown; choose name, index or id")
        return list(self.names)

    def index(self, name: str) -> int:
        """Index of a class name; unknown names are refused with the known ones listed."""
        try:
            return self.names.index(str(name))
        except ValueError:
            raise UserError(f"unknown class {name!r}; known classes: {', '.join(self.names)}") from None

    def category_of(self, name_or_index: str | int) -> str | None:
        i = name_or_index if isinstance(name_or_index, int) else self.index(name_or_index)
        return self.categories[i]

    def to_dict(self) -> dict:
        ids = self.ids or (None,) * self.num_classes
        return {"classes": [{"index": i, "name": n, "category": c, **({"id": d} if d is not None else {})}
                            for i, (n, c, d) in enumerate(zip(self.names, self.categories, ids))]}

    @classmethod
    def from_dict(cls, d: dict) -> "LabelMap":
        """The inverse of `to_dict` (labels.json, checkpoints)."""
        rows = sorted(d["classes"], key=lambda r: r["index"])
        ids = tuple(str(r["id"]) for r in rows) if rows and all("id" in r for r in rows) else ()
        return cls(tuple(r["name"] for r in rows), tuple(r.get("category") for r in rows), ids)

    def save(self, path: str | Path) -> Path:
        """Write labels.json atomically."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "LabelMap":
        path = Path(path)
        if path.is_dir():
            path = path / "labels.json"
        if not path.exists():
            raise UserError(f"{path}: label map not found; pass a run folder that holds labels.json")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _natural_key(s: str):
    """'class2' before 'class10'; numeric names sort as numbers (MNIST digits, class ids)."""
    import re

    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]
