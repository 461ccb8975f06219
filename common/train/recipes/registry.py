"""Every recipe by the model name the command line takes (``python -m common.train NAME``)."""

from .base import Recipe
from .classifier import ClassifierRecipe
from .encoder import EncoderRecipe
from .glow import GlowRecipe
from .pggan import PGGANRecipe
from .vae import DFCRecipe, VAERecipe

RECIPES: dict[str, type[Recipe]] = {recipe.model_name: recipe for recipe in
                                    (ClassifierRecipe, VAERecipe, DFCRecipe, GlowRecipe, PGGANRecipe,
                                                     EncoderRecipe)}
