"""PGGAN generator speed: images/s and one-slider-move latency for the shipped 64x64
SynthFaces generator on the CPU; the 1024x1024 InterFaceGAN layout (random weights, same
cost) for one image on the CPU, and on CUDA when present in fp32 and in bf16 with
channels_last (with the largest pixel difference from fp32).

    python benchmarks/pggan_speed.py
Reference (issue 6): InterFaceGAN's own PGGAN-1024 code on an H200 takes 7.7 ms for one
image and 21.8 ms for a batch of 8 (fp32).
"""

from __future__ import annotations

import statistics
import time

import torch

from common.config import peak_memory_mib
from common.direction import along
from common.models.pggan import SYNTH_PGGAN, PGGANConfig, PGGANGenerator
from common.weights.shipped import load_pggan
from common.train.progressive_gan import ProgressiveGAN, progressive_gan_loss
from common.widgets import EditPanel, move_latency_ms, slider_latency
from timing import sync, training_images_per_s


@torch.no_grad()
def batch_ms(generator: PGGANGenerator, batch: int, device: torch.device, repeats: int = 10,
             dtype: torch.dtype | None = None) -> float:
    """Median milliseconds to draw ``batch`` images (after two warm-up calls)."""
    z = generator.sample_latent(batch, seed=0).to(device)
    times = []
    for k in range(repeats + 2):
        sync(device)
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            generator(z)
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[2:])


def gan_training_images_per_s(device: torch.device, batch: int = 32, steps: int = 5) -> float:
    """Progressive-GAN steps (both networks, R1 penalty) at full 64x64 resolution."""
    model = ProgressiveGAN(SYNTH_PGGAN, phase_steps=1).to(device)
    real = (torch.rand(batch, 3, 64, 64, device=device) * 2 - 1,)
    past_last_fade = 2 * (model.generator.levels - 1) + 1     # lod 0
    return training_images_per_s(model, progressive_gan_loss, real, device, steps, betas=(0.0, 0.99),
                                 step=past_last_fade, autocast=False)


def main() -> None:
    cpu = torch.device("cpu")
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}")
    print(f"{'generator':<28}{'device':>7}{'batch':>6}{'ms':>10}{'images/s':>10}")
    shipped = load_pggan()
    for batch in (1, 8, 64):
        ms = batch_ms(shipped, batch, cpu)
        print(f"{'SynthFaces 64x64':<28}{'cpu':>7}{batch:>6}{ms:>10.1f}{1000 * batch / ms:>10.1f}")
    devices = [cpu] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        rate = gan_training_images_per_s(device)
        print(f"{'training 64x64, batch 32':<28}{device.type:>7}{32:>6}{'':>10}{rate:>10.1f}   peak {peak_memory_mib(device):.0f} MiB")
    big = PGGANGenerator(PGGANConfig()).eval()
    ms = batch_ms(big, 1, cpu, repeats=3)
    print(f"{'InterFaceGAN 1024 layout':<28}{'cpu':>7}{1:>6}{ms:>10.1f}{1000 / ms:>10.1f}")
    if torch.cuda.is_available():
        cuda = torch.device("cuda")
        big = big.to(cuda)
        z = big.sample_latent(8, seed=0).to(cuda)
        with torch.no_grad():
            reference = big(z)
        for label, dtype in (("fp32", None), ("bf16 channels_last", torch.bfloat16)):
            if dtype is not None:
                big = big.to(memory_format=torch.channels_last)
            for batch in (1, 8):
                ms = batch_ms(big, batch, cuda, dtype=dtype)
                print(f"{'1024 ' + label:<28}{'cuda':>7}{batch:>6}{ms:>10.2f}{1000 * batch / ms:>10.1f}")
            with torch.no_grad(), torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
                difference = (big(z).float() - reference).abs().max().item()
            print(f"    largest pixel difference from fp32: {difference:.4f} (images span [-1, 1])")
    median, p90 = slider_latency(shipped)
    print(f"one slider move (SynthFaces 64x64 generator, CPU, decode + PNG): median {median:.1f} ms, p90 {p90:.1f} ms")
    big = PGGANGenerator(PGGANConfig()).eval()
    for label, preview, budget, settle in (("preview 64 px", 64, None, 60_000), ("preview 256 px", 256, None, 60_000),
                                           ("adaptive preview, 150 ms budget", 64, 150, 60_000),
                                           ("full 1024 px", 64, None, 0)):   # a long settle: only previews timed
        panel = EditPanel(big, [along("a", torch.randn(big.latent_dim), big.sample_latent(200, seed=0))], display_size=256, preview_size=preview,
                          preview_budget_ms=budget, settle_ms=settle)
        move_latency_ms(panel, 4)                          # warm-up (the adaptive panel finds its size here)
        times = sorted(move_latency_ms(panel, 8))
        drawn = f", drawn at {panel.view.preview_size} px" if panel.view.previews else ""
        print(f"one slider move (InterFaceGAN 1024 layout, CPU, {label} -> 256 px image{drawn}): "
              f"median {times[len(times) // 2]:.0f} ms, largest {times[-1]:.0f} ms")


if __name__ == "__main__":
    main()
