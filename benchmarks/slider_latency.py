"""One slider move on the CPU: edit, decode, PNG, widget update, against redrawing a
matplotlib figure for the same update (what an Output-widget panel would do).

    python benchmarks/slider_latency.py
Targets (issue 3): median at most 30 ms for decoders of VAE size, and at least 5x faster
than the matplotlib redraw, both measured here in one run.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from IPython.core.pylabtools import print_figure  # noqa: E402
from torch import nn  # noqa: E402

from common.data import SynthFaces  # noqa: E402
from common.images import to_uint8  # noqa: E402
from common.models import PCAFaces  # noqa: E402
from common.judge.classifier import load_classifier  # noqa: E402
from common.direction import along  # noqa: E402
from common.widgets import EditPanel, move_latency_ms  # noqa: E402

MOVES = 60


class VAESizedDecoder(nn.Module):
    """Random-weight stand-in with the decoder layout of PyTorch-VAE's VanillaVAE
    (latent 128 -> 512x2x2 -> transposed convs 512-256-128-64-32 -> 64x64): the cost of a
    VAE decode, until the trained VAE ships."""

    latent_dim, image_size = 128, 64

    def __init__(self) -> None:
        super().__init__()
        channels = [512, 256, 128, 64, 32]
        self.project = nn.Linear(128, 512 * 4)
        layers = []
        for c_in, c_out in zip(channels, channels[1:] + [32]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU()]
        layers += [nn.Conv2d(32, 3, 3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers).eval()

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(-1, 512, 2, 2))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(x), 128)

    def sample_latent(self, n: int, seed: int | None = None) -> torch.Tensor:
        return torch.randn(n, 128, generator=torch.Generator().manual_seed(seed or 0))


def matplotlib_redraw_ms(panel: EditPanel) -> list[float]:
    times = []
    direction = next(iter(panel.state.directions.values()))
    for k in range(MOVES):
        start = time.perf_counter()
        face = panel.render(direction.moved(panel.state.base, (k % 20 - 10) * 0.1))
        if panel.scorer is not None:
            panel.scorer(face[None])  # the same readout work as the panel
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.imshow(to_uint8(face))
        ax.axis("off")
        print_figure(fig, "png", bbox_inches="tight")  # what the inline backend sends per redraw
        plt.close(fig)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    faces = SynthFaces(n=2000, size=64, progress=False)
    classifier = load_classifier()
    pca = PCAFaces.fit(faces.images(slice(None)), 64)
    setups = {"PCA faces (64)": (pca, None),
              "VAE-sized decoder (128)": (VAESizedDecoder(), None),
              "VAE-sized + classifier readout": (VAESizedDecoder(), classifier.scorer(["Smiling", "Male"]))}
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {MOVES} moves each")
    print(f"{'model':<32}{'panel median ms':>16}{'p90':>8}{'matplotlib ms':>15}{'speed-up':>10}")
    for name, (model, scorer) in setups.items():
        codes = model.sample_latent(200, seed=0)
        directions = [along(name, torch.randn(model.latent_dim), codes) for name in ("a", "b")]
        panel = EditPanel(model, directions, scorer=scorer)
        move_latency_ms(panel, MOVES)  # warm-up
        moves = move_latency_ms(panel, MOVES)
        redraws = matplotlib_redraw_ms(panel)
        p90 = sorted(moves)[int(0.9 * len(moves))]
        median, baseline = statistics.median(moves), statistics.median(redraws)
        print(f"{name:<32}{median:>16.1f}{p90:>8.1f}{baseline:>15.1f}{baseline / median:>9.1f}x")


if __name__ == "__main__":
    main()
