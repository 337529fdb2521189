"""The discriminative side: timm classifiers, fine-tuning, metrics, prediction, export.

Public API: `train(TrainOptions) -> run_dir` (clf.train), `predict`, `submit`, `clf.predict.load_scorer`,
and for course graders `train_classifier(train_gt, train_img_dir, fast_train=True)` and `classify(model_path, dir)`.
Heavy imports happen on first use so `import clf` stays cheap.
"""


def train_classifier(train_gt: dict, train_img_dir: str, fast_train: bool = True):
    """Train Lite0 (offline ImageNet) in memory on {file: class index}; returns the model, writes no file."""
    from clf.grader import train_classifier as _impl

    return _impl(train_gt, train_img_dir, fast_train)


def classify(model_path, test_img_dir: str) -> dict:
    """{file name: class index} for the images in a folder, from a saved grader model or a `train` run."""
    from clf.grader import classify as _impl

    return _impl(model_path, test_img_dir)


def load_scorer(run_dir, which: str = "auto", device: str = "auto"):
    """fn(images_uint8_NCHW, class_name) -> probabilities of that class (see clf.predict.load_scorer)."""
    from clf.predict import load_scorer as _impl

    return _impl(run_dir, which, device)


__all__ = ["train_classifier", "classify", "load_scorer"]
