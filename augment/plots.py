"""Small matplotlib helpers shared by EDA and previews (headless, atomic PNG writes)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common.atomic import atomic_path  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Save a figure as PNG atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def image_grid(rows: list[list[np.ndarray]], row_titles: list[str] | None = None, col_titles: list[str] | None = None,
               cell: float = 1.2, title: str | None = None):
    """A figure of images, one list per row (rows may be ragged); returns the figure."""
    n_rows = len(rows)
    n_cols = max(len(r) for r in rows)
    # Constrained layout places the title just above the first row: the default margins are shares of the figure
    # (top=0.88), which left a tall grid (20 classes) inches of blank under its title that bbox_inches="tight" keeps.
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols + 1.2, cell * n_rows + 0.6), squeeze=False,
                             layout="constrained")
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if j < len(row):
                ax.imshow(row[j], cmap="gray" if row[j].ndim == 2 else None)
            if j == 0 and row_titles:
                ax.set_ylabel(row_titles[i], rotation=0, ha="right", va="center", fontsize=8)
            if i == 0 and col_titles and j < len(col_titles):
                ax.set_title(col_titles[j], fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
