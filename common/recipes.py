"""What ``python -m common.train MODEL`` trains: data, model, loss, figures, shipped weights."""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.utils.data import Dataset

from .data.celeba import CelebA, CelebAError
from .data.synthfaces import SynthFaces
from .models.classifier import (AttributeClassifier, classifier_loss, evaluate_classifier, held_out_faces,
                                load_classifier, weights_name)
from .models.dfc import DFCLoss, FeatureNetworkError, feature_network
from .models.glow import Glow, GlowConfig, glow_loss
from .models.pggan import SYNTH_PGGAN, PGGANConfig
from .models.pggan_training import ProgressiveGAN, progressive_gan_loss, sample_quality
from .models.vae import VAE, VAEConfig, config_dict, evaluate_vae, vae_loss
from .train import TrainConfig, save_history, train
from .weights import WEIGHTS_DIR, Headline, check_replacement, read_manifest, save_weights


class RecipeError(RuntimeError):
    """A user-facing problem (missing data, bad option); printed without a traceback."""


# The image sizes each model trains at (the command line checks --image-size against it).
IMAGE_SIZES: dict[str, tuple[int, ...]] = {"classifier": (64, 32), "vae": (64,), "dfc": (64,), "glow": (32, 64),
                                           "pggan": (64, 32)}
# The metric that decides whether new weights may replace shipped ones.
HEADLINES = {"classifier": Headline("acc/Smiling", higher_is_better=True),
             "vae": Headline("pixel_mse", higher_is_better=False),
             "glow": Headline("bits_per_dim", higher_is_better=False),
             "pggan": Headline("frechet", higher_is_better=False)}


def before_training(args: argparse.Namespace) -> None:
    """Checks that would otherwise fail only after training: with ``--save``, the
    manifest must be readable."""
    if args.save:
        read_manifest()


def ship(args: argparse.Namespace, model: torch.nn.Module, name: str, headline: Headline, *, command: str,
         metrics: dict[str, float], config: dict) -> None:
    """Save ``model`` as ``weights/name`` with ``--save``, unless its metrics are worse
    than the shipped file's on ``headline`` (``--force`` overrides); say what it replaced."""
    if not args.save:
        return
    replaced = check_replacement(name, metrics, headline, force=args.force)
    save_weights(model, name, command=command, metrics=metrics, config=config)
    print(f"saved: {replaced}")


def training_data(args: argparse.Namespace, size: int = 64) -> Dataset:
    if args.data == "synth":
        return SynthFaces(n=args.faces, size=size, seed=args.seed, split="train")
    if not args.celeba_root:
        raise RecipeError("--data celeba needs --celeba-root FOLDER (holding img_align_celeba/ and the lists)")
    try:
        return CelebA(args.celeba_root, split="train", size=size, crop=args.crop)
    except CelebAError as error:
        raise RecipeError(str(error)) from None


def train_config(args: argparse.Namespace, name: str, lr: float) -> TrainConfig:
    return TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr or lr, seed=args.seed,
                       out=args.out or f"runs/{name}", device=args.device)


def _report(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        print(f"{name:<28}{value:.4f}")


def classifier_recipe(args: argparse.Namespace, command: str) -> None:
    if args.data != "synth":
        raise RecipeError("the attribute classifier trains on SynthFaces (its factors are the targets)")
    size = args.image_size or 64
    config = train_config(args, "classifier" if size == 64 else f"classifier_{size}", lr=2e-3)
    before_training(args)
    torch.manual_seed(args.seed)
    model = AttributeClassifier()
    train(model, classifier_loss, training_data(args, size=size), config)
    figures = evaluate_classifier(model.cpu(), held_out_faces(size=size))
    _report(figures)
    ship(args, model, weights_name(size), HEADLINES["classifier"], command=command, metrics=figures,
         config={"width": 24, "image_size": size, "faces": args.faces, "steps": config.steps,
                 "batch_size": config.batch_size, "lr": config.lr, "seed": config.seed})


def _train_vae(args: argparse.Namespace, command: str, name: str, vae_config: VAEConfig, loss,
               extra: dict) -> None:
    """Train a VAE with ``loss``, report held-out figures, ship as ``vae_<name>``."""
    before_training(args)
    data = training_data(args)
    config = train_config(args, f"vae_{name}", lr=1e-3)
    torch.manual_seed(args.seed)
    model = VAE(vae_config)
    train(model, loss, data, config)
    held_out = held_out_faces()
    images, _, factors = held_out.batch(np.arange(len(held_out)))
    figures = evaluate_vae(model.cpu(), images, factors)
    _report(figures)
    ship(args, model, f"vae_{name}.safetensors", HEADLINES["vae"], command=command, metrics=figures,
         config={**config_dict(vae_config), "steps": config.steps, "batch_size": config.batch_size,
                 "lr": config.lr, "seed": config.seed, "data": args.data, **extra})


def vae_recipe(args: argparse.Namespace, command: str) -> None:
    try:
        vae_config = VAEConfig(kind=args.kind, c_stop_step=args.steps)
    except ValueError as error:
        raise RecipeError(str(error)) from None
    _train_vae(args, command, args.kind, vae_config, vae_loss, {})


def dfc_recipe(args: argparse.Namespace, command: str) -> None:
    try:
        features = feature_network(args.features)
    except (FeatureNetworkError, ValueError) as error:
        raise RecipeError(str(error)) from None
    print(f"feature network: {features.description}")
    _train_vae(args, command, "dfc", VAEConfig(kind="vanilla"), DFCLoss(features),
               {"loss": "dfc", "features": args.features, "alpha": 1.0, "beta": 0.5})


@torch.no_grad()
def held_out_bits_per_dim(model: Glow, size: int, n: int = 1000) -> float:
    """Mean bits/dim on held-out SynthFaces (fixed dequantisation noise, seed 0)."""
    faces = SynthFaces(n=n, size=size, seed=0, split="test", progress=False)
    model.eval()
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for start in range(0, n, 100):
        x = faces.images(slice(start, start + 100))
        total += float(model.bits_per_dim(x, torch.rand(x.shape, generator=generator)).sum())
    return total / n


def glow_recipe(args: argparse.Namespace, command: str) -> None:
    size = args.image_size or 32
    glow_config = GlowConfig(image_size=size)
    config = train_config(args, f"glow_{size}", lr=1e-3)
    config.warmup_steps, config.grad_clip = min(500, args.steps // 5), 50.0
    before_training(args)
    torch.manual_seed(args.seed)
    model = Glow(glow_config)
    train(model, glow_loss, training_data(args, size=size), config)
    figures = {"bits_per_dim": held_out_bits_per_dim(model.cpu(), size)}
    _report(figures)
    ship(args, model, f"glow_{size}.safetensors", HEADLINES["glow"], command=command, metrics=figures,
         config={**vars(glow_config), "train_steps": config.steps, "batch_size": config.batch_size,
                 "lr": config.lr, "seed": config.seed, "data": args.data})


def pggan_recipe(args: argparse.Namespace, command: str) -> None:
    """Progressive growing 4x4 -> 64x64; ships the averaged generator with its Frechet
    distance and attribute frequencies (``pggan_training.sample_quality``) and the
    training curves (``weights/pggan_synth64.history.json``)."""
    size = args.image_size or 64
    levels = size.bit_length() - 2                      # resolutions 4 .. size
    gan_config = PGGANConfig(latent_dim=SYNTH_PGGAN.latent_dim, resolution=size, channels=SYNTH_PGGAN.channels[:levels])
    phase_steps = args.phase_steps or max(1, args.steps // 10)
    config = train_config(args, f"pggan_{gan_config.resolution}", lr=1e-3)
    config.betas, config.cosine = (0.0, 0.99), False
    before_training(args)
    torch.manual_seed(args.seed)
    model = ProgressiveGAN(gan_config, phase_steps=phase_steps, loss=args.gan_loss)
    classifier = load_classifier()
    real = held_out_faces()
    start = sample_quality(model.average, classifier, real)
    history = train(model, progressive_gan_loss, training_data(args, size=gan_config.resolution), config)
    figures = {**sample_quality(model.average.cpu(), classifier, real), "frechet_at_start": start["frechet"]}
    _report(figures)
    name = f"pggan_synth{gan_config.resolution}"
    ship(args, model.average, f"{name}.safetensors", HEADLINES["pggan"], command=command, metrics=figures,
         config={"latent_dim": gan_config.latent_dim, "resolution": gan_config.resolution,
                 "channels": list(gan_config.channels), "loss": args.gan_loss, "phase_steps": phase_steps,
                 "train_steps": config.steps, "batch_size": config.batch_size, "lr": config.lr,
                 "seed": config.seed, "data": args.data})
    if args.save:
        save_history(history, WEIGHTS_DIR / f"{name}.history.json")


RECIPES = {"classifier": classifier_recipe, "vae": vae_recipe, "dfc": dfc_recipe, "glow": glow_recipe,
           "pggan": pggan_recipe}
