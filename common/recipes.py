"""What ``python -m common.train MODEL`` trains: data, model, loss, metrics, shipped weights.

Every recipe trains on ``--data`` (SynthFaces or CelebA), measures on the held-out split
of that same data, and ships to a file of its own per dataset (``shipped_name``)."""

from __future__ import annotations

import argparse

import torch

from .data.celeba import CelebA, CelebAError
from .data.celeba_names import CELEBA_ATTRIBUTES
from .data.synth_factors import SYNTH_ATTRIBUTES
from .data.synthfaces import SynthFaces
from .models.classifier import (CLASSIFIER_FACTORS, AttributeClassifier, classifier_loss, evaluate_classifier,
                                held_out_faces, load_classifier, weights_name)
from .models.dfc import DFCLoss, FeatureNetworkError, feature_network
from .models.glow import Glow, GlowConfig, glow_loss
from .models.pggan import SYNTH_PGGAN, PGGANConfig
from .models.pggan_training import ProgressiveGAN, progressive_gan_loss, sample_quality
from .models.vae import VAE, VAEConfig, config_dict, evaluate_vae, vae_loss
from .train import TrainConfig, save_history, train
from .weights import (Headline, Record, WeightsError, check_replacement, read_manifest, save_weights,
                      shipped_name, weights_dir)


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
        read_manifest(args.weights_dir)


def ship(args: argparse.Namespace, model: torch.nn.Module, name: str, headline: Headline, record: Record) -> None:
    """Save ``model`` as ``name`` in ``--weights-dir`` with ``--save``, unless its metrics are worse
    than the shipped file's on ``headline`` (``--force`` overrides); say what it replaced."""
    if not args.save:
        return
    replaced = check_replacement(name, record.metrics, headline, force=args.force, folder=args.weights_dir)
    save_weights(model, name, record, folder=args.weights_dir)
    print(f"saved: {replaced}")


def _celeba(args: argparse.Namespace, split: str, size: int, limit: int | None = None) -> CelebA:
    if not args.celeba_root:
        raise RecipeError("--data celeba needs --celeba-root FOLDER (holding img_align_celeba/ and the lists)")
    try:
        return CelebA(args.celeba_root, split=split, size=size, crop=args.crop, limit=limit)
    except CelebAError as error:
        raise RecipeError(str(error)) from None


def training_data(args: argparse.Namespace, size: int = 64) -> SynthFaces | CelebA:
    """The training split of ``--data``: ``--faces`` SynthFaces, or all of CelebA's."""
    if args.data == "synth":
        return SynthFaces(n=args.faces, size=size, seed=args.seed, split="train")
    return _celeba(args, "train", size)


def held_out_data(args: argparse.Namespace, size: int = 64, n: int = 2000) -> SynthFaces | CelebA:
    """Where every recipe measures its model: the first ``n`` faces of the test split of
    the data it trained on (SynthFaces' test split is the same whatever ``--seed``)."""
    if args.data == "synth":
        return held_out_faces(n=n, size=size)
    return _celeba(args, "test", size, limit=n)


def reading_classifier(args: argparse.Namespace, size: int = 64) -> AttributeClassifier:
    """The shipped classifier that reads faces of ``--data`` (CelebA's must be trained first)."""
    try:
        return load_classifier(size, data=args.data, folder=args.weights_dir)
    except WeightsError as error:
        if args.data == "synth":
            raise
        raise RecipeError(f"{error}. On CelebA, train its classifier first: python -m common.train classifier "
                          f"--data celeba --celeba-root {args.celeba_root} --save") from None


def train_config(args: argparse.Namespace, name: str, lr: float, **recipe) -> TrainConfig:
    """The run's complete ``TrainConfig``: the command line's options, the recipe's learning
    rate unless ``--lr`` is given, and the recipe's own settings (``recipe``: warm-up,
    clipping, Adam's betas ...)."""
    return TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr or lr, seed=args.seed,
                       out=args.out or f"runs/{name}", device=args.device, **recipe)


def _report(metrics: dict[str, float], held_out: SynthFaces | CelebA) -> None:
    print(f"held-out metrics, measured on {held_out.describe()}:")
    for name, value in metrics.items():
        print(f"{name:<28}{value:.4f}")


def data_record(args: argparse.Namespace, training: SynthFaces | CelebA, held_out: SynthFaces | CelebA) -> dict:
    """The manifest's ``data`` block: which data, how many training faces, where the
    metrics come from."""
    record = {"name": args.data, "faces": len(training), "held_out": held_out.describe()}
    if args.data == "celeba":
        record["crop"] = args.crop
    return record


def train_record(config: TrainConfig, **loss) -> dict:
    """The manifest's ``train`` block: the optimisation (and the loss settings in ``loss``)."""
    return {"steps": config.steps, "batch_size": config.batch_size, "lr": config.lr, "seed": config.seed, **loss}


def classifier_recipe(args: argparse.Namespace, command: str) -> None:
    """On SynthFaces: 19 attributes and 12 factors; on CelebA: its 40 labelled attributes."""
    size = args.image_size or 64
    name = weights_name(size, args.data)
    config = train_config(args, name.removesuffix(".safetensors"), lr=2e-3)
    before_training(args)
    attributes, factors = (SYNTH_ATTRIBUTES, CLASSIFIER_FACTORS) if args.data == "synth" else (CELEBA_ATTRIBUTES, ())
    torch.manual_seed(args.seed)
    model = AttributeClassifier(attributes=attributes, factors=factors)
    data = training_data(args, size=size)
    train(model, classifier_loss, data, config)
    held_out = held_out_data(args, size=size)
    metrics = evaluate_classifier(model.cpu(), held_out)
    _report(metrics, held_out)
    ship(args, model, name, HEADLINES["classifier"],
         Record(command, metrics, model={"width": model.width, "image_size": size, "attributes": list(attributes),
                                         "factors": list(factors)},
                train=train_record(config), data=data_record(args, data, held_out)))


def _train_vae(args: argparse.Namespace, command: str, name: str, vae_config: VAEConfig, loss,
               loss_record: dict) -> None:
    """Train a VAE with ``loss``, report held-out metrics, ship as ``vae_<name>``."""
    before_training(args)
    data = training_data(args)
    config = train_config(args, shipped_name(f"vae_{name}", args.data).removesuffix(".safetensors"), lr=1e-3)
    torch.manual_seed(args.seed)
    model = VAE(vae_config)
    train(model, loss, data, config)
    held_out = held_out_data(args)
    factors = torch.from_numpy(held_out.factors) if args.data == "synth" else None   # CelebA has none: no MIG, DCI
    metrics = evaluate_vae(model.cpu(), held_out.images(slice(None)), factors)
    _report(metrics, held_out)
    ship(args, model, shipped_name(f"vae_{name}.safetensors", args.data), HEADLINES["vae"],
         Record(command, metrics, model=config_dict(vae_config), train=train_record(config, **loss_record),
                data=data_record(args, data, held_out)))


def vae_recipe(args: argparse.Namespace, command: str) -> None:
    try:
        vae_config = VAEConfig(kind=args.kind, c_stop_step=args.steps)
    except ValueError as error:
        raise RecipeError(str(error)) from None
    _train_vae(args, command, args.kind, vae_config, vae_loss, {"loss": args.kind})


def dfc_recipe(args: argparse.Namespace, command: str) -> None:
    try:
        features = feature_network(args.features, data=args.data, folder=args.weights_dir)
    except (FeatureNetworkError, ValueError) as error:
        raise RecipeError(str(error)) from None
    print(f"feature network: {features.description}")
    loss = DFCLoss(features)
    _train_vae(args, command, "dfc", VAEConfig(kind="vanilla"), loss,
               {"loss": "dfc", "features": args.features, "alpha": loss.alpha, "beta": loss.beta})


@torch.no_grad()
def held_out_bits_per_dim(model: Glow, faces: SynthFaces | CelebA) -> float:
    """Mean bits/dim on held-out ``faces`` (fixed dequantisation noise, seed 0)."""
    model.eval()
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for start in range(0, len(faces), 100):
        x = faces.images(slice(start, start + 100))
        total += float(model.bits_per_dim(x, torch.rand(x.shape, generator=generator)).sum())
    return total / len(faces)


def glow_recipe(args: argparse.Namespace, command: str) -> None:
    size = args.image_size or 32
    glow_config = GlowConfig(image_size=size, affine=args.coupling == "affine")
    name = shipped_name(f"glow_{size}.safetensors", args.data, "glow", size)
    config = train_config(args, name.removesuffix(".safetensors"), lr=1e-3, warmup_steps=min(500, args.steps // 5),
                          grad_clip=50.0)
    before_training(args)
    torch.manual_seed(args.seed)
    model = Glow(glow_config)
    data = training_data(args, size=size)
    train(model, glow_loss, data, config)
    held_out = held_out_data(args, size=size, n=1000)
    metrics = {"bits_per_dim": held_out_bits_per_dim(model.cpu(), held_out)}
    _report(metrics, held_out)
    ship(args, model, name, HEADLINES["glow"],
         Record(command, metrics, model=vars(glow_config),
                train=train_record(config, warmup_steps=config.warmup_steps, grad_clip=config.grad_clip),
                data=data_record(args, data, held_out)))


def pggan_recipe(args: argparse.Namespace, command: str) -> None:
    """Progressive growing 4x4 -> 64x64; ships the averaged generator with its Frechet
    distance and attribute frequencies (``pggan_training.sample_quality``) and the
    training curves (``weights/pggan_synth64.history.json``)."""
    size = args.image_size or 64
    levels = size.bit_length() - 2                      # resolutions 4 .. size
    gan_config = PGGANConfig(latent_dim=SYNTH_PGGAN.latent_dim, resolution=size, channels=SYNTH_PGGAN.channels[:levels])
    phase_steps = args.phase_steps or max(1, args.steps // 10)
    name = shipped_name(f"pggan_synth{size}.safetensors", args.data, "pggan", size)
    config = train_config(args, name.removesuffix(".safetensors"), lr=1e-3, betas=(0.0, 0.99), cosine=False)
    before_training(args)
    torch.manual_seed(args.seed)
    model = ProgressiveGAN(gan_config, phase_steps=phase_steps, loss=args.gan_loss)
    classifier = reading_classifier(args)
    real = held_out_data(args)
    start = sample_quality(model.average, classifier, real)
    data = training_data(args, size=gan_config.resolution)
    history = train(model, progressive_gan_loss, data, config)
    metrics = {**sample_quality(model.average.cpu(), classifier, real), "frechet_at_start": start["frechet"]}
    _report(metrics, real)
    ship(args, model.average, name, HEADLINES["pggan"],
         Record(command, metrics, model={"latent_dim": gan_config.latent_dim, "resolution": gan_config.resolution,
                                         "channels": list(gan_config.channels)},
                train=train_record(config, loss=args.gan_loss, phase_steps=phase_steps, betas=list(config.betas)),
                data=data_record(args, data, real)))
    if args.save:
        save_history(history, (args.weights_dir or weights_dir()) / name.replace(".safetensors", ".history.json"))


RECIPES = {"classifier": classifier_recipe, "vae": vae_recipe, "dfc": dfc_recipe, "glow": glow_recipe,
           "pggan": pggan_recipe}
