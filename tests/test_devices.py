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
