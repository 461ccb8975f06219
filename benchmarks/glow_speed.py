"""Glow speed: training images/s, one-face encode and decode latency, one slider move, and
peak memory, for both shipped models' configurations (64x64, the notebooks' default, and the
quick 32x32) on the CPU, and on CUDA (also the
rosinality glow-pytorch 64x64 reference configuration, 4 levels x 32 steps, width 512,
additive) when a GPU is present.

    python benchmarks/glow_speed.py [--steps 10] [--batch 32]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from common.config import peak_memory_mib
from common.data import SynthFaces
from common.models.glow import Glow, GlowConfig, glow_loss
from common.weights.shipped import load_glow
from common.widgets import slider_latency
from timing import sync, training_images_per_s

REFERENCE_64 = GlowConfig(image_size=64, levels=4, steps=32, hidden=512, affine=False)


def glow_training_images_per_s(model: Glow, device: torch.device, batch: int, steps: int) -> float:
    """Adam steps on SynthFaces at the model's size."""
    faces = SynthFaces(n=max(256, batch), size=model.image_size, progress=False)
    images = faces.images(range(batch)).to(device)
    return training_images_per_s(model, glow_loss, (images,), device, steps, lr=1e-4)


@torch.no_grad()
def one_face_ms(model: Glow, device: torch.device, repeats: int = 20) -> tuple[float, float]:
    """Median (encode ms, decode ms) for one face."""
    model.eval()
    face = SynthFaces(n=1, size=model.image_size, progress=False).images(range(1)).to(device)
    encode, decode = [], []
    for _ in range(repeats + 2):
        sync(device)
        start = time.perf_counter()
        code = model.encode(face)
        sync(device)
        middle = time.perf_counter()
        model.decode(code)
        sync(device)
        encode.append((middle - start) * 1000)
        decode.append((time.perf_counter() - middle) * 1000)
    return statistics.median(encode[2:]), statistics.median(decode[2:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    shipped = {f"shipped {size}x{size}": load_glow(size) for size in (64, 32)}
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    setups = [(name, device, model.config, args.batch) for device in devices for name, model in shipped.items()]
    if torch.cuda.is_available():
        cuda = torch.device("cuda")
        setups += [("rosinality 64x64", cuda, REFERENCE_64, 16), ("rosinality 64x64", cuda, REFERENCE_64, 64)]
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}")
    print(f"{'model':<18}{'device':>7}{'batch':>6}{'train img/s':>12}{'encode ms':>10}{'decode ms':>10}{'peak MiB':>10}")
    for name, device, config, batch in setups:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        model = Glow(config).to(device)
        rate = glow_training_images_per_s(model, device, batch, args.steps)
        if name in shipped:  # latency of the trained weights
            model.load_state_dict(shipped[name].state_dict())
        encode, decode = one_face_ms(model, device)
        print(f"{name:<18}{device.type:>7}{batch:>6}{rate:>12.1f}{encode:>10.1f}{decode:>10.1f}{peak_memory_mib(device):>10.0f}")
    for name, model in shipped.items():
        median, p90 = slider_latency(model)
        print(f"one slider move ({name} Glow, CPU, decode + PNG): median {median:.1f} ms, p90 {p90:.1f} ms")


if __name__ == "__main__":
    main()
