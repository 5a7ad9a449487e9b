"""A module that fails while being imported."""

RATIO = 1 / 0
