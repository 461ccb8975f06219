"""The models for the data the switch points at (``CELEBA_ROOT``), as the notebooks need them.

On SynthFaces: the shipped weights. On CelebA: weights trained with the command line
(``python -m common.train MODEL --data celeba --save``, in ``weights/``) when there are
some; otherwise the model is trained now by that same recipe (a few steps in quick mode,
more in full mode, on the first ``CELEBA_LIMIT`` training faces) and kept in the cache (``FES_CACHE/models/``), so the next notebook
that needs it loads it instead of training again.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path

from torch import nn

from .config import cache_dir, device, device_name, full_or_quick
from .data.source import celeba_crop, celeba_limit, celeba_root, using_celeba
from .judge.classifier import load_classifier
from .models.dfc import FeatureNetworkError
from .models.pggan import EncoderInversion
from .train import History, read_history
from .train.recipes import RECIPES, DataSpec, classifier_features, feature_network, shipped_recipe
from .weights import WeightsError, history_path, read_manifest, weights_dir
from .weights.shipped import (StaleEncoderError, encoder_name, load_glow, load_pggan, load_pggan_encoder, load_vae,
                              pggan_name)


def models_folder() -> Path:
    """Where models trained by the notebooks on this CelebA folder (and crop) are kept."""
    key = hashlib.sha256(f"{Path(str(celeba_root())).resolve()}|{celeba_crop()}".encode()).hexdigest()[:12]
    return cache_dir() / "models" / f"celeba_{key}"


def training_record(name: str) -> tuple[dict, Path]:
    """The manifest entry of the weights file ``name`` (for example ``pggan_celeba64.safetensors``)
    and the folder that holds it and its history: ``weights/`` first (shipped, or trained with
    the command line), then the cache of models the notebooks trained on this CelebA folder.

    Raises:
        WeightsError: neither folder lists ``name`` (load the model with ``*_on_data`` first)."""
    for folder in (weights_dir(), models_folder()):
        entry = read_manifest(folder).get(name)
        if entry is not None:
            return entry, folder
    raise WeightsError(f"no manifest lists {name} (looked in {weights_dir()} and {models_folder()}); "
                       "load the model with common.load_or_train first, which trains it when needed")


def shipped_history(name: str) -> History:
    """The training curves of weights file ``name`` (``NAME.history.json`` beside it, in the
    folder ``training_record`` finds)."""
    _, folder = training_record(name)
    path = history_path(name, folder)
    if not path.exists():
        raise WeightsError(f"{path} is missing: {name} was shipped without its training curves; "
                           "retrain it with python -m common.train ... --save, which writes them")
    return read_history(path)


def _on_data(model: str, load: Callable[..., nn.Module], name: str, **options) -> nn.Module:
    """``load(data=..., folder=...)`` for the current data, on ``common.device()`` (the GPU
    when there is one), training ``model`` first when CelebA has no weights for it yet (or
    fewer steps than its recipe's ``notebook_steps`` in this mode)."""
    return _loaded(model, load, name, **options).to(device())


def _loaded(model: str, load: Callable[..., nn.Module], name: str, **options) -> nn.Module:
    if not using_celeba():
        return load(data="synth")
    try:
        shipped = load(data="celeba")
        print(f"{name}: trained on CelebA with the command line, from weights/")
        return shipped
    except WeightsError:
        pass
    folder, kind = models_folder(), RECIPES[model]
    steps = full_or_quick(*kind.notebook_steps)
    if read_manifest(folder).get(name, {}).get("train", {}).get("steps", 0) < steps:
        recipe = kind.from_options(steps=steps, batch_size=kind.notebook_batch,
                                   data=DataSpec.current(celeba_limit=celeba_limit()),
                                   out=str(folder / "runs" / name.removesuffix(".safetensors")), **options)
        print(f"{name}: no CelebA weights yet; training it now: {steps} steps of {recipe.train.batch_size} faces "
              f"from the first {recipe.data.celeba_limit} CelebA training faces (CELEBA_LIMIT) on "
              f"{device_name()}, into {folder}; after its first steps it says how long the rest will take")
        recipe.run(save=True, force=True, weights_dir=folder)
    else:
        print(f"{name}: trained on CelebA by an earlier notebook, from {folder}")
    return load(data="celeba", folder=folder)


def classifier_on_data(image_size: int = 64) -> nn.Module:
    """The attribute classifier that reads the current data (CelebA: its 40 labels)."""
    return _on_data("classifier", lambda **where: load_classifier(image_size, **where),
                    f"classifier_celeba{image_size}.safetensors", image_size=image_size)


def dfc_features() -> str:
    """The DFC-VAE's feature network on CelebA: the paper's VGG19 (layers relu3_1, 4_1,
    5_1) when torchvision's ImageNet weights are cached or can be downloaded; offline, the
    CelebA attribute classifier (said in the output)."""
    try:
        feature_network("vgg345")
        return "vgg345"
    except FeatureNetworkError as error:
        print(f"VGG19 is not available ({str(error).split(';')[0].split('(')[0].strip()}); "
              "the DFC-VAE compares the CelebA attribute classifier's features instead")
        classifier_on_data()
        return "classifier"


def vae_on_data(kind: str = "vanilla") -> nn.Module:
    """A VAE (``vanilla``, ``beta_h``, ``beta_b``, or ``dfc``) of the current data."""
    if kind == "dfc":
        features = dfc_features() if using_celeba() else "classifier"
        return _on_data("dfc", lambda **where: load_vae("dfc", **where), "vae_dfc_celeba64.safetensors",
                        features=features)
    return _on_data("vae", lambda **where: load_vae(kind, **where), f"vae_{kind}_celeba64.safetensors", kind=kind)


def glow_on_data(image_size: int = 64, conditional: bool = False) -> nn.Module:
    """The Glow of the current data (``conditional``: the one whose top prior is conditioned
    on the attributes)."""
    stem = "glow_cond" if conditional else "glow"
    return _on_data("glow", lambda **where: load_glow(image_size, conditional=conditional, **where),
                    f"{stem}_celeba{image_size}.safetensors", image_size=image_size, conditional=conditional)


def shipped_pggan_labels() -> dict:
    """The labelled latent axes of the shipped SynthFaces generator (its recipe, as the
    manifest records it) as recipe options: ``latent_labels`` and ``label_loss``, or none for
    a generator trained without them or not recorded."""
    try:
        shipped = shipped_recipe(pggan_name("synth"))
    except WeightsError:
        return {}
    return {"latent_labels": shipped.latent_labels, "label_loss": shipped.label_loss} if shipped.latent_labels else {}


def pggan_on_data() -> nn.Module:
    """The progressive GAN's generator for the current data (64x64); where an encoder was
    trained for it (``python -m common.train encoder --save``), its ``encode`` starts from
    the encoder's answer and refines it with the classifier's perceptual term. A CelebA
    generator trained here follows the shipped SynthFaces generator's design (its labelled axes)."""
    classifier = classifier_on_data()   # its samples are measured in the CelebA classifier's features
    generator = _on_data("pggan", load_pggan, pggan_name("celeba"), **shipped_pggan_labels())
    data = "celeba" if using_celeba() else "synth"
    if encoder_name(data) not in read_manifest():
        return generator                # no encoder: encode optimises from the best random sample
    try:
        encoder = load_pggan_encoder(data)
    except StaleEncoderError as stale:          # a damaged file is not forgiven: it stops here
        warnings.warn(f"{stale}; meanwhile faces are inverted by optimisation alone")
        return generator
    generator.use_encoder(EncoderInversion(encoder.to(device()), classifier_features(classifier)))
    return generator
