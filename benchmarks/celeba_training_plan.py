"""How long the CelebA training commands of docs/GUIDE.md take: each recipe's training step is
timed for a few steps at its batch size (random images of the right size; the step costs
the same on CelebA), on the CPU and on CUDA when present, and the table prints the wall
time of the whole command on each device. CelebA's one-off JPEG decode (cached after the
first run) is not included.

    python benchmarks/celeba_training_plan.py [--steps 3]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from common.data import CELEBA_ATTRIBUTES
from common.judge.classifier import AttributeClassifier, classifier_loss
from common.models.dfc import VGG_LAYER_SETS, DFCLoss, VGGFeatures
from common.models.glow import Glow, GlowConfig, glow_loss
from common.models.pggan import SYNTH_PGGAN
from common.train.progressive_gan import ProgressiveGAN, progressive_gan_loss
from common.models.vae import VAE, VAEConfig, vae_loss
from timing import training_images_per_s


@dataclass(frozen=True)
class Recipe:
    """One of the guide's commands: its total steps and batch, and how to build one training step."""

    command: str
    steps: int
    batch: int
    size: int
    build: Callable[[], tuple[nn.Module, Callable]]
    labels: bool = False          # the loss reads CelebA's 40 labels as well as the images
    gan: bool = False             # a progressive GAN: timed at its final resolution


def _gan() -> tuple[nn.Module, Callable]:
    """The shipped design: z's first two axes carry Smiling and Narrow_Eyes (auxiliary classifier)."""
    labelled = tuple(CELEBA_ATTRIBUTES.index(name) for name in ("Smiling", "Narrow_Eyes"))
    return ProgressiveGAN(SYNTH_PGGAN, phase_steps=1, latent_labels=labelled, label_loss="classifier"), progressive_gan_loss


PLAN = (
    Recipe("python -m common.train classifier --data celeba --celeba-root celeba --steps 20000 --save", 20000, 64, 64,
           lambda: (AttributeClassifier(attributes=CELEBA_ATTRIBUTES, factors=()), classifier_loss), labels=True),
    Recipe("python -m common.train vae --kind vanilla --data celeba --celeba-root celeba --steps 50000 --save", 50000, 64, 64,
           lambda: (VAE(VAEConfig(kind="vanilla")), vae_loss)),
    Recipe("python -m common.train dfc --features vgg345 --data celeba --celeba-root celeba --steps 50000 --save", 50000, 64, 64,
           lambda: (VAE(VAEConfig(kind="vanilla")), DFCLoss(VGGFeatures(VGG_LAYER_SETS["vgg345"], pretrained=False)))),
    Recipe("python -m common.train glow --image-size 64 --data celeba --celeba-root celeba --batch-size 32 --steps 50000 --save",
           50000, 32, 64, lambda: (Glow(GlowConfig(image_size=64)), glow_loss)),
    Recipe("python -m common.train pggan --data celeba --celeba-root celeba --latent-labels Smiling,Narrow_Eyes --label-loss classifier "
           "--steps 60000 --phase-steps 6000 --save",
           60000, 64, 64, _gan, labels=True, gan=True),
)


def seconds_per_step(recipe: Recipe, device: torch.device, steps: int) -> float:
    model, loss = recipe.build()
    model.to(device)
    images = torch.rand(recipe.batch, 3, recipe.size, recipe.size, device=device) * 2 - 1
    labels = (torch.rand(recipe.batch, len(CELEBA_ATTRIBUTES), device=device) > 0.5).float()
    batch = (images, labels) if recipe.labels else (images,)
    if recipe.gan:      # past the last fade-in: every layer at full resolution
        rate = training_images_per_s(model, loss, batch, device, steps, betas=(0.0, 0.99),
                                     step=2 * (model.generator.levels - 1) + 1, autocast=False)
    else:
        rate = training_images_per_s(model, loss, batch, device, steps)
    return recipe.batch / rate


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3, help="timed steps per recipe and device")
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no CUDA device here"))
    print(f"{'model':<11}{'steps x batch':>15}" + "".join(f"{d.type + ' s/step':>14}{d.type + ' total':>12}" for d in devices))
    for recipe in PLAN:
        cells = []
        for device in devices:
            per_step = seconds_per_step(recipe, device, args.steps)
            cells.append(f"{per_step:>14.3f}{hours(per_step * recipe.steps):>12}")
        model = recipe.command.split()[3]
        print(f"{model:<11}{f'{recipe.steps} x {recipe.batch}':>15}" + "".join(cells))
    print("commands:\n" + "\n".join(recipe.command for recipe in PLAN))


if __name__ == "__main__":
    main()
