"""Recipes: what ``python -m common.train MODEL`` trains, as typed, frozen dataclasses, one
file per model over ``base.py``.

``VAERecipe.from_options(kind="beta_h").run(quick=True)`` trains from a notebook exactly
as the command line does; ``shipped_recipe("vae_vanilla.safetensors")`` is the recipe
behind a shipped weights file."""

from .base import QUICK_FACES, QUICK_STEPS, Recipe, Trained
from .classifier import ClassifierRecipe, reading_classifier
from .data_spec import DataSpec, RecipeError
from .encoder import EncoderRecipe, classifier_features
from .glow import GlowRecipe, held_out_bits_per_dim
from .pggan import PGGANRecipe
from .registry import RECIPES
from .shipped import shipped_recipe
from .vae import DFCRecipe, VAERecipe, feature_network

__all__ = ["QUICK_FACES", "QUICK_STEPS", "RECIPES", "ClassifierRecipe", "DFCRecipe", "DataSpec", "EncoderRecipe",
           "GlowRecipe", "PGGANRecipe", "Recipe", "RecipeError", "Trained", "VAERecipe", "classifier_features",
           "feature_network", "held_out_bits_per_dim", "reading_classifier", "shipped_recipe"]
