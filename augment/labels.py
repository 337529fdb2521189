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
    """Ordered class names; `categories[i]` is the category of class i (or None)."""

    names: tuple[str, ...]
    categories: tuple[str | None, ...] = field(default=())

    def __post_init__(self):
        if not self.categories:
            object.__setattr__(self, "categories", (None,) * len(self.names))
        if len(set(self.names)) != len(self.names):
            raise UserError("label map: duplicate class names; each class needs a unique name")
        if len(self.categories) != len(self.names):
            raise UserError("label map: categories and names differ in length")

    @classmethod
    def from_labels(cls, labels: Iterable[str], categories: Iterable[str | None] | None = None) -> "LabelMap":
        """Sorted unique class names (a stable order across runs), with each class's category."""
        labels = list(labels)
        cats = list(categories) if categories is not None else [None] * len(labels)
        cat_of: dict[str, str | None] = {}
        for lab, cat in zip(labels, cats):
            cat = None if cat is None or cat != cat else str(cat)  # NaN → None
            if lab in cat_of and cat_of[lab] != cat:
                raise UserError(f"class {lab!r} appears under two categories ({cat_of[lab]!r}, {cat!r}); "
                                "give it one category")
            cat_of[str(lab)] = cat
        names = tuple(sorted(cat_of, key=_natural_key))
        return cls(names, tuple(cat_of[n] for n in names))

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def hierarchical(self) -> bool:
        return any(c is not None for c in self.categories)

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
        return {"classes": [{"index": i, "name": n, "category": c}
                            for i, (n, c) in enumerate(zip(self.names, self.categories))]}

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
        rows = sorted(json.loads(path.read_text(encoding="utf-8"))["classes"], key=lambda r: r["index"])
        return cls(tuple(r["name"] for r in rows), tuple(r.get("category") for r in rows))


def _natural_key(s: str):
    """'class2' before 'class10'; numeric names sort as numbers (MNIST digits, class ids)."""
    import re

    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]
