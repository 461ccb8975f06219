"""Device rule: helpers send what meets a model to the model's device and bring results back
to the CPU. Proved on a CPU-only machine with a model that lives on PyTorch's "meta" device
and refuses inputs from anywhere else."""

import pytest
import torch
from torch import nn

from common.arithmetic import decode_faces, encode_faces
from common.config import device, model_device
from common.models import PCAFaces
from common.models.vae import VAE, VAEConfig


class ElsewhereModel(nn.Module):
    """A latent model whose tensors live on "meta": it checks where its inputs are and
    answers with CPU tensors of the right shape (meta tensors hold no values)."""

    latent_dim, image_size = 4, 8

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("anchor", torch.zeros(1, device="meta"))

    def _check(self, x: torch.Tensor) -> None:
        assert x.device == self.anchor.device, f"input on {x.device}, model on {self.anchor.device}"

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        return torch.zeros(len(images), self.latent_dim)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        self._check(codes)
        return torch.zeros(len(codes), 3, self.image_size, self.image_size)


def test_model_device_reads_parameters_or_buffers():
    assert model_device(ElsewhereModel()).type == "meta"
    assert model_device(PCAFaces(latent_dim=2, image_size=8)).type == "cpu"          # buffers only
    assert model_device(VAE(VAEConfig(latent_dim=8))).type == "cpu"
    assert device().type in ("cpu", "cuda")


def test_encode_and_decode_helpers_send_inputs_to_the_models_device():
    model = ElsewhereModel()
    codes = encode_faces(model, torch.zeros(5, 3, 8, 8), batch=2)
    faces = decode_faces(model, torch.zeros(5, 4), batch=2)
    assert codes.shape == (5, 4) and faces.shape == (5, 3, 8, 8)
    assert codes.device.type == faces.device.type == "cpu"
    with pytest.raises(AssertionError, match="input on cpu"):
        model.decode(torch.zeros(1, 4))                                   # the check itself bites


def _layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]


def _glow():
    from common.models.glow import Glow, GlowConfig

    return Glow(GlowConfig(image_size=8, levels=2, steps=1, hidden=8, affine=False))


def _pggan():
    from common.models.pggan import PGGANConfig, PGGANGenerator

    return PGGANGenerator(PGGANConfig(latent_dim=8, resolution=8, channels=(8, 8)))


def _classifier():
    from common.judge.classifier import AttributeClassifier

    return AttributeClassifier(width=4)


@pytest.mark.parametrize("build, method, x", [
    (lambda: VAE(VAEConfig(latent_dim=8)), "encode", torch.zeros(2, 3, 64, 64)),
    (lambda: VAE(VAEConfig(latent_dim=8)), "decode", torch.zeros(2, 8)),
    (lambda: VAE(VAEConfig(latent_dim=8)), "encode_sample", torch.zeros(2, 3, 64, 64)),
    (_glow, "encode", torch.zeros(2, 3, 8, 8)),
    (_glow, "decode", None),
    (_pggan, "render", torch.zeros(2, 8)),   # given its level of detail (decode reads a buffer, valueless on "meta")
    (_pggan, "activations", torch.zeros(2, 8)),
    (_classifier, "read", torch.zeros(2, 3, 64, 64)),
])
def test_a_models_own_methods_compute_on_its_device_then_bring_the_answer_back(build, method, x):
    """The model moves to "meta"; CPU inputs reach its layers on "meta" (seen by hooks), and the answer is copied back to the CPU (which is what fails for meta tensors,
    since they hold no values)."""
    model = build()
    if x is None:                                  # a Glow code: as long as the flow's latent
        x = torch.zeros(2, model.latent_dim)
    seen = []
    for layer in _layers(model):
        layer.register_forward_pre_hook(lambda layer, inputs: seen.append(inputs[0].device))
    model.eval().to("meta")                        # eval: as loaded for editing
    with pytest.raises(NotImplementedError, match="meta"):
        getattr(model, method)(x, 0.0) if method == "render" else getattr(model, method)(x)
    assert seen and {device.type for device in seen} == {"meta"}
