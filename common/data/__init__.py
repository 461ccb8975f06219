"""Face datasets: SynthFaces (the embedded default) and CelebA (the real thing)."""

from .celeba import CelebA, CelebAError, download_celeba
from .celeba_names import CELEBA_ATTRIBUTES, attribute_index
from .export import export_celeba_layout, export_synthfaces_as_celeba
from .groups import FaceGroup, attribute_groups, select_faces
from .synth_factors import (ATTRIBUTE_RULES, FACTOR_NAMES, SYNTH_ATTRIBUTES,
                            attributes_from_factors, sample_factors)
from .synth_render import render_faces
from .source import FaceData, celeba_root, describe_data, face_data, using_celeba
from .synthfaces import SynthFaces, average_factors, changed_region, factor_sweep

__all__ = [
    "ATTRIBUTE_RULES", "CELEBA_ATTRIBUTES", "CelebA", "CelebAError", "FACTOR_NAMES", "FaceData", "FaceGroup",
    "celeba_root", "describe_data", "export_synthfaces_as_celeba", "face_data", "using_celeba",
    "SYNTH_ATTRIBUTES", "SynthFaces", "attribute_groups", "average_factors", "changed_region", "attribute_index",
    "attributes_from_factors", "download_celeba", "export_celeba_layout", "factor_sweep", "render_faces",
    "sample_factors", "select_faces",
]
