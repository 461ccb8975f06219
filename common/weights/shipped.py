"""The models we ship, read back from ``weights/``: each loader builds the model from the
configuration its manifest entry records and loads its safetensors file (checked against
the manifest's sha256), in eval mode. The attribute classifier's loader is
``common.judge.classifier.load_classifier``."""

from __future__ import annotations

from pathlib import Path

from ..models.glow import Glow, GlowConfig
from ..models.inversion import EncoderConfig, LatentEncoder
from ..models.pggan import PGGANConfig, PGGANGenerator
from ..models.vae import VAE, VAEConfig
from .store import WeightsError, load_weights, manifest_config, read_manifest, shipped_name


def load_vae(kind: str = "vanilla", data: str = "synth", folder: Path | None = None) -> VAE:
    """A shipped VAE, in eval mode: ``kind`` is one of ``KINDS`` or ``"dfc"`` (the DFC-VAE),
    read from ``weights/vae_<kind>.safetensors`` (``vae_<kind>_celeba64.safetensors`` for
    ``data="celeba"``)."""
    name = shipped_name(f"vae_{kind}.safetensors", data)
    model = VAE(manifest_config(name, VAEConfig, folder))
    load_weights(model, name, folder)
    return model.eval()


def load_glow(image_size: int = 32, data: str = "synth", folder: Path | None = None, conditional: bool = False) -> Glow:
    """The shipped Glow (``weights/glow_<size>.safetensors``; ``glow_cond_<size>`` for the
    class-conditional one; ``..._celeba<size>`` for ``data="celeba"``), in eval mode."""
    stem = "glow_cond" if conditional else "glow"
    name = shipped_name(f"{stem}_{image_size}.safetensors", data, stem, image_size)
    model = Glow(manifest_config(name, GlowConfig, folder))
    load_weights(model, name, folder)
    return model.eval()


class StaleEncoderError(WeightsError):
    """The shipped encoder was trained against another generator file than the one shipped now."""


def pggan_name(data: str = "synth", size: int = 64) -> str:
    """The file of the shipped ``size`` x ``size`` generator trained on ``data``
    (``pggan_synth64.safetensors``, ``pggan_celeba64.safetensors``)."""
    return shipped_name(f"pggan_synth{size}.safetensors", data, "pggan", size)


def load_pggan(data: str = "synth", folder: Path | None = None) -> PGGANGenerator:
    """The shipped 64x64 generator (the averaged weights) trained on ``data``, in eval mode."""
    name = pggan_name(data)
    generator = PGGANGenerator(manifest_config(name, PGGANConfig, folder))
    load_weights(generator, name, folder)
    return generator.eval()


def encoder_name(data: str = "synth") -> str:
    """The file of the generator's shipped encoder for ``data``."""
    return shipped_name("pggan_encoder_synth64.safetensors", data, "pggan_encoder")


def load_pggan_encoder(data: str = "synth", folder: Path | None = None) -> LatentEncoder:
    """The shipped encoder of the generator trained on ``data``, in eval mode.

    Raises:
        WeightsError: the file is missing or damaged.
        StaleEncoderError: it was trained against another generator file than the one shipped
            now (its answers would be another space's)."""
    name = encoder_name(data)
    encoder = LatentEncoder(manifest_config(name, EncoderConfig, folder))
    trained = load_weights(encoder, name, folder)["train"]
    shipped = read_manifest(folder).get(trained["generator"], {}).get("sha256")
    if shipped != trained["generator_sha256"]:
        raise StaleEncoderError(f"{name} was trained against another {trained['generator']} than the one shipped "
                                f"now; train it again for this generator: python -m common.train encoder --save --force")
    return encoder.eval()
