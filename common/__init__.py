"""Shared helpers for the Facial Expression Synthesis notebooks.

Notebooks import from here: data (SynthFaces, CelebA), plotting and run-time switches.
"""

from . import plot
from .config import cache_dir, device, full_or_quick, quick_mode
from .data import (CELEBA_ATTRIBUTES, FACTOR_NAMES, CelebA, SynthFaces, attribute_groups, describe_data,
                   export_celeba_layout, face_data, render_faces, sample_factors, select_faces, using_celeba)
from .images import from_uint8, to_png_bytes, to_uint8

__all__ = [
    "CELEBA_ATTRIBUTES", "FACTOR_NAMES", "CelebA", "SynthFaces", "attribute_groups", "cache_dir",
    "device", "describe_data", "export_celeba_layout", "face_data", "from_uint8", "full_or_quick", "plot",
    "quick_mode", "render_faces", "sample_factors", "select_faces", "to_png_bytes", "to_uint8", "using_celeba",
]
