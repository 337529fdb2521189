"""The discriminative side: timm classifiers, fine-tuning, metrics, prediction, export."""
