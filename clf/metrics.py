"""Classification metrics (scikit-learn) and the selection-metric registry behind `--select`."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

from augment.labels import LabelMap

# --select name → key in the metrics dict (all are "higher is better").
SELECT = {"acc": "acc", "macro_f1": "macro_f1", "micro_f1": "micro_f1", "hier_acc": "hier_acc"}


def category_predictions(probs: np.ndarray, label_map: LabelMap) -> np.ndarray:
    """Category per image: the category with the largest summed class probability."""
    cats = sorted({c for c in label_map.categories if c is not None})
    if not cats:
        return np.zeros(len(probs), dtype=int)
    cat_idx = np.array([cats.index(c) if c is not None else -1 for c in label_map.categories])
    per_cat = np.stack([probs[:, cat_idx == j].sum(1) for j in range(len(cats))], 1)
    return per_cat.argmax(1)


def compute_metrics(y_true, probs: np.ndarray, label_map: LabelMap) -> dict:
    """acc, macro/micro F1, hierarchical accuracy, per-class F1 and the confusion matrix.

    Hierarchical accuracy counts an image right only when its class is right AND the category with the largest
    summed probability is its category; without categories it equals accuracy. Per-class F1 lists every class
    (0 for one never seen nor predicted); macro F1 averages the classes that occur.
    """
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(1)
    labels = np.arange(label_map.num_classes)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    # Macro over the classes that occur (true or predicted), as Kaggle's and sklearn's default: a class too small
    # to reach the validation split would otherwise count as F1 = 0 however good the model is.
    present = np.union1d(y_true, y_pred)
    out = {
        "acc": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
        "per_class_f1": {n: float(f) for n, f in zip(label_map.names, per_class)},
        # recall per class: the tail CAS of issue 30 (how many of a rare class's test images a classifier finds)
        "per_class_recall": {n: float(r) for n, r in zip(label_map.names, recall_score(
            y_true, y_pred, labels=labels, average=None, zero_division=0))},
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    if label_map.hierarchical:
        cats = sorted({c for c in label_map.categories if c is not None})
        true_cat = np.array([cats.index(label_map.categories[i]) if label_map.categories[i] else -1 for i in y_true])
        pred_cat = category_predictions(probs, label_map)
        out["category_acc"] = float((true_cat == pred_cat).mean())
        out["hier_acc"] = float(((y_pred == y_true) & (true_cat == pred_cat)).mean())
    else:
        out["hier_acc"] = out["acc"]
    return out
