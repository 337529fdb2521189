"""Ablations and end-to-end jobs that compose augment, gen and clf."""
