"""Recipes: what ``python -m common.train MODEL`` trains, as typed, frozen dataclasses.

``VAERecipe.from_options(kind="beta_h").run(quick=True)`` trains from a notebook exactly
as the command line does; ``shipped_recipe("vae_vanilla.safetensors")`` is the recipe
behind a shipped weights file."""

from .base import QUICK_FACES, QUICK_STEPS, Recipe, Trained
from .data_spec import DataSpec, RecipeError
from .models import (RECIPES, ClassifierRecipe, DFCRecipe, GlowRecipe, PGGANRecipe, VAERecipe, held_out_bits_per_dim,
                     reading_classifier)
from .shipped import shipped_recipe

__all__ = ["QUICK_FACES", "QUICK_STEPS", "RECIPES", "ClassifierRecipe", "DFCRecipe", "DataSpec", "GlowRecipe",
           "PGGANRecipe", "Recipe", "RecipeError", "Trained", "VAERecipe", "held_out_bits_per_dim",
           "reading_classifier", "shipped_recipe"]
