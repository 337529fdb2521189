"""Files → batches: manifests, label maps, validation, splits, albumentations presets, mixing, loaders, EDA.

Holds data only: no models, no training.
"""
