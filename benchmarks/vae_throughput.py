"""VAE training throughput and peak memory, for each kind and for the PyTorch-VAE reference
configuration (channels 32-512, latent 128), on the CPU and on CUDA when present.

    python benchmarks/vae_throughput.py [--steps 10] [--batch 64]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from common.config import peak_memory_mib
from common.data import SynthFaces
from common.models.vae import KINDS, VAE, VAEConfig, vae_loss
from timing import training_images_per_s

CONFIGS = {**{kind: VAEConfig(kind=kind) for kind in KINDS},
           "reference 32-512": VAEConfig(channels=(32, 64, 128, 256, 512))}


def throughput(config: VAEConfig, device: torch.device, batch: int, steps: int) -> tuple[float, float]:
    """(images per second, peak memory in MiB) of training steps."""
    faces = SynthFaces(n=max(256, batch), size=64, progress=False)
    x = faces.batch(np.arange(batch))
    x = tuple(t.to(device) for t in x)
    model = VAE(config).to(device)
    cuda = device.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)
        torch.cuda.reset_peak_memory_stats()
    rate = training_images_per_s(model, vae_loss, x, device, steps)
    peak = peak_memory_mib(device)
    return rate, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, batch {args.batch}")
    print(f"{'model':<20}{'device':>8}{'images/s':>10}{'ms/step':>9}{'peak MiB':>10}")
    for device in devices:
        for name, config in CONFIGS.items():
            rate, peak = throughput(config, device, args.batch, args.steps)
            print(f"{name:<20}{device.type:>8}{rate:>10.0f}{1000 * args.batch / rate:>9.1f}{peak:>10.0f}")
    if len(devices) == 1:
        print("(no CUDA device here: GPU rows appear when one is present)")


if __name__ == "__main__":
    main()
