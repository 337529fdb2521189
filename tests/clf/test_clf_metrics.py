"""compute_metrics against hand-computed values: macro F1 over the classes that occur, hierarchical accuracy."""
import numpy as np
import pytest

from augment.labels import LabelMap
from clf.metrics import compute_metrics


def one_hot(pred, k):
    return np.eye(k)[pred]


def test_macro_f1_ignores_a_class_absent_from_truth_and_predictions():
    lm = LabelMap.from_labels(["a", "b", "c"])
    m = compute_metrics([0, 0, 1, 1], one_hot([0, 0, 1, 1], 3), lm)  # "c" never reached the validation split
    assert m["acc"] == 1.0 and m["macro_f1"] == 1.0
    assert m["per_class_f1"] == {"a": 1.0, "b": 1.0, "c": 0.0}


def test_macro_f1_counts_a_predicted_but_absent_class_as_a_miss():
    lm = LabelMap.from_labels(["a", "b", "c"])
    m = compute_metrics([0, 0, 1, 1], one_hot([0, 2, 1, 1], 3), lm)
    # a: P 1, R 1/2 -> 2/3; b: 1; c: predicted once, never true -> 0; macro over {a, b, c}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert m["acc"] == 0.75 and m["confusion"][0] == [1, 0, 1]
    assert m["per_class_recall"] == {"a": 0.5, "b": 1.0, "c": 0.0}  # half of a's images found; c has none


def test_hierarchical_accuracy_needs_class_and_category_right():
    lm = LabelMap.from_labels(["cat1_x", "cat1_y", "cat2_z"], ["one", "one", "two"])
    y_true = [0, 1, 2, 2]
    probs = np.array([[0.6, 0.3, 0.1],     # right class, right category
                      [0.45, 0.0, 0.55],   # wrong class (x), category one 0.45 < two 0.55: wrong category
                      [0.0, 0.4, 0.6],     # right class, right category
                      [0.35, 0.3, 0.35]])  # argmax x (first of the tie), category one 0.65: both wrong
    m = compute_metrics(y_true, probs, lm)
    assert m["acc"] == 0.5 and m["hier_acc"] == 0.5 and m["category_acc"] == 0.5
    probs[1] = [0.5, 0.2, 0.3]             # class wrong (x) but category right (one 0.7): still not counted
    m = compute_metrics(y_true, probs, lm)
    assert m["category_acc"] == 0.75 and m["hier_acc"] == 0.5
