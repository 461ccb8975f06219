"""Progressive growing (Karras et al. 2018) of the PGGAN generator on SynthFaces.

Training starts at 4x4 and adds a resolution at a time up to the generator's own: each new
resolution first fades in (``lod`` slides from k+1 to k while the new layers' image is
blended with the upsampled old one), then trains stably. The discriminator mirrors it,
reading the image at the current resolution through a from-RGB layer, with the same fade.
Loss: WGAN-GP (gradient penalty 10) with PGGAN's drift term 0.001, or the non-saturating
logistic loss with an R1 penalty ``r1_weight / 2 * E||grad_x D(x)||^2`` on real images
(``loss="logistic"``; weight 10 as StyleGAN's on 1024x1024 faces by default). As in PGGAN, the shipped generator
is an exponential moving average of the trained one's weights (``average``).

*Labelled latent axes* (``latent_labels``): the first k coordinates of z each carry one
binary attribute of the data, as in a conditional GAN whose label lives inside the
latent. A fake's label k is ``z_k > t_k``, with ``t_k`` the normal quantile that gives the
attribute its frequency in the training faces; a real face's labels are its own. The
discriminator's final features ``phi(x)`` give one logit per label, ``l_k = <v_k, phi(x)>``,
used in one of two ways (``label_loss``): ``"projection"`` adds ``sum_k s_k l_k`` (``s_k =
+-1``) to the score of an image with its labels (Miyato & Koyama 2018), so a fake whose face
does not show what its axes say is told apart; ``"classifier"`` trains the logits as an
auxiliary classifier of the real faces' attributes and adds its cross-entropy on each fake
and the fake's labels to the generator's loss (AC-GAN, Odena et al. 2017). Either way the
generator learns to draw the attribute along that axis of z. *Kept labels* (``kept_labels``,
with the classifier loss): the auxiliary classifier also learns attributes no axis carries
(Male, skin, age), and the generator is asked to keep them when only the labelled axes
change: with ``z'`` the same latent with its first k coordinates drawn again,
``lambda_k mean |l_kept(G(z)) - l_kept(G(z'))|``, so the smile axis does not carry the
person's sex or skin with it. Sampling stays
``z ~ N(0, I)``: the generator and its loading are unchanged, and InterFaceGAN's boundary,
fitted from samples and a classifier as always, should find the axis again.

*A teacher* (``Teacher``): a trained decoder that draws faces from the same prior (the
shipped VAE's), its latent turned so that its attribute directions lie along the labelled
axes. For its first ``steps`` the generator's loss adds an anchor that fades linearly to
zero, ``lambda_t (1 - step / steps) |G(z) - T(Qz)|_1``, so the generator starts by redrawing
faces a trained model already draws, with their expressions along the right axes, and the
adversarial loss then sharpens them (knowledge distillation of a generator, Aguinaldo et al.
2019, arXiv 1902.00159, here as a start rather than a compression).

Generator and discriminator live in one module so that the project's single training loop
(``common.train``) trains them: the generator's loss goes through a *detached copy* of the
discriminator's parameters and the discriminator's loss through a detached fake, so one
backward pass gives each network exactly its own gradient (simultaneous updates).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from ..arithmetic import decode_faces
from ..direction import mean_difference
from ..data.synthfaces import SynthFaces
from ..judge.metrics import classifier_frechet
from .loop import gradient_scale
from ..models.pggan import PGGANConfig, PGGANGenerator, WScale

GP_WEIGHT = 10.0
DRIFT = 0.001
R1_WEIGHT = 10.0
LABEL_LOSSES = ("projection", "classifier")
KEEP_WEIGHT = 1.0


class Teacher:
    """The teacher of the module's docstring: ``decoder.decode`` of ``rotation [D,D] @ z``
    (the columns of ``rotation`` are the teacher's directions of z's axes), anchored with
    weight ``weight`` fading to zero at ``steps``."""

    def __init__(self, decoder: nn.Module, rotation: Tensor, weight: float, steps: int) -> None:
        if steps < 1 or weight <= 0:
            raise ValueError(f"a teacher needs steps >= 1 and a positive weight, got {steps} and {weight}")
        self.decoder, self.rotation = decoder.eval().requires_grad_(False), rotation
        self.weight, self.steps = weight, steps

    def weight_at(self, step: int) -> float:
        """``lambda_t (1 - step / steps)``, zero from ``steps`` on."""
        return self.weight * max(0.0, 1.0 - step / self.steps)

    @torch.no_grad()
    def images(self, z: Tensor) -> Tensor:
        """``[N,3,R,R]``: the teacher's faces of latents ``z [N,D]``."""
        decoder = self.decoder.to(z.device)
        return decoder.decode(z @ self.rotation.to(z).T)


def teacher_rotation(codes: Tensor, attributes: Tensor, seed: int = 0) -> Tensor:
    """``[D,D]`` orthogonal: its first columns the teacher's attribute directions, the mean
    difference of the teacher's ``codes [N,D]`` of faces with and without each of the
    ``attributes [N,k]`` (0/1), made orthogonal in turn (Gram-Schmidt); the others a seeded
    random completion. ``rotation @ z`` of ``z ~ N(0, I)`` is again ``N(0, I)``."""
    columns = [mean_difference(f"attribute {k}", codes, attributes[:, k]).vector for k in range(attributes.shape[1])]
    directions = torch.stack(columns, dim=1) if columns else codes.new_zeros(codes.shape[1], 0)     # [D, k]
    generator = torch.Generator().manual_seed(seed)
    filler = torch.randn(codes.shape[1], codes.shape[1] - attributes.shape[1], generator=generator, dtype=codes.dtype)
    q, r = torch.linalg.qr(torch.cat([directions, filler], dim=1))
    return q * torch.sign(torch.diagonal(r))[None]     # column k keeps direction k's sign


def progressive_lod(step: int, phase_steps: int, levels: int) -> float:
    """``lod`` at ``step``: ``levels - 1`` (4x4) for the first ``phase_steps`` steps, then
    for each further resolution a fade-in and a stable phase of ``phase_steps`` each; after
    the last fade-in training stays at full resolution (``lod`` 0) for as long as it runs."""
    phase = step // phase_steps
    if phase == 0:
        return float(levels - 1)
    if phase > 2 * (levels - 1):
        return 0.0
    within = (step % phase_steps) / phase_steps
    grown = (phase - 1) // 2                     # resolutions added before this phase
    fading = phase % 2 == 1
    return float(levels - 1 - grown - (within if fading else 1.0))


def equalized_conv(c_in: int, c_out: int, kernel: int = 3, gain: float = math.sqrt(2.0)) -> nn.Sequential:
    """Conv with N(0,1) weights scaled at run time by ``gain / sqrt(fan_in)`` (PGGAN's
    equalised learning rate, as in the generator's blocks)."""
    conv = nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2, bias=False)
    nn.init.normal_(conv.weight)
    return nn.Sequential(conv, WScale(c_in * kernel * kernel, c_out, gain))


class Discriminator(nn.Module):
    """Mirror of the generator: from-RGB at each resolution, two 3x3 convs and a 2x
    average pool per level down to 4x4, then minibatch standard deviation, a conv and a
    dense layer to one score per image."""

    def __init__(self, channels: tuple[int, ...], labels: int = 0) -> None:
        super().__init__()
        self.levels = len(channels)
        self.from_rgb = nn.ModuleList([equalized_conv(3, c, 1) for c in channels])
        self.blocks = nn.ModuleList([
            nn.Sequential(equalized_conv(channels[i], channels[i]), nn.LeakyReLU(0.2),
                          equalized_conv(channels[i], channels[i - 1]), nn.LeakyReLU(0.2), nn.AvgPool2d(2))
            for i in range(1, len(channels))])
        self.final_conv = equalized_conv(channels[0] + 1, channels[0])
        self.final_dense = equalized_conv(channels[0] * 16, 1, kernel=1, gain=1.0)
        # the labels' vectors v_k, [k, C*16], scaled like the dense layer they sit beside (only
        # when there are labels: an unconditional run's checkpoints stay as they were)
        self.label_vectors = nn.Parameter(torch.randn(labels, channels[0] * 16)) if labels else None

    def forward(self, images: Tensor, lod: float, labels: Tensor | None = None,
                with_logits: bool = False) -> Tensor | tuple[Tensor, Tensor | None]:
        """Scores ``[N]`` for full-resolution images ``[N,3,R,R]`` seen at level ``lod``;
        with ``labels`` ``[N,k]`` (0/1), plus their projection ``sum_k s_k l_k``;
        ``with_logits``: also the label logits ``l`` ``[N,k]`` (None without labels)."""
        top = self.levels - 1 - math.floor(lod)
        fade = lod - math.floor(lod)
        x = F.avg_pool2d(images, 2 ** (self.levels - 1 - top)) if top < self.levels - 1 else images
        h = F.leaky_relu(self.from_rgb[top](x), 0.2)
        for i in range(top, 0, -1):
            h = self.blocks[i - 1](h)
            if i == top and fade > 0:
                low = F.leaky_relu(self.from_rgb[top - 1](F.avg_pool2d(x, 2)), 0.2)
                h = h + fade * (low - h)
        spread = h.std(dim=0, unbiased=False).mean().expand(len(h), 1, 4, 4)
        h = F.leaky_relu(self.final_conv(torch.cat([h, spread], dim=1)), 0.2).flatten(1)
        scores = self.final_dense(h[:, :, None, None]).flatten()
        logits = None if self.label_vectors is None else h @ self.label_vectors.T / math.sqrt(h.shape[1])
        if labels is not None and logits is not None:
            scores = scores + ((2.0 * labels - 1.0) * logits).sum(dim=1)
        return (scores, logits) if with_logits else scores


class ProgressiveGAN(nn.Module):
    """Generator and discriminator trained together by ``progressive_gan_loss``."""

    def __init__(self, config: PGGANConfig, phase_steps: int, loss: str = "logistic",
                 average_beta: float = 0.995, r1_weight: float = R1_WEIGHT,
                 latent_labels: tuple[int, ...] = (), label_loss: str = "projection",
                 kept_labels: tuple[int, ...] = (), keep_weight: float = KEEP_WEIGHT) -> None:
        """``latent_labels``: the data's attribute columns that z's first coordinates carry
        (none: an unconditional GAN), taught by ``label_loss``; ``kept_labels``: columns
        the labelled axes must not change, weighted ``keep_weight`` (the module's docstring)."""
        super().__init__()
        if loss not in ("wgan-gp", "logistic"):
            raise ValueError(f"loss must be 'wgan-gp' or 'logistic', got {loss!r}")
        if label_loss not in LABEL_LOSSES:
            raise ValueError(f"label_loss must be one of {', '.join(LABEL_LOSSES)}, got {label_loss!r}")
        if len(latent_labels) > config.latent_dim:
            raise ValueError(f"{len(latent_labels)} labelled axes do not fit a {config.latent_dim}-dim latent")
        if kept_labels and (label_loss != "classifier" or not latent_labels):
            raise ValueError("kept labels need labelled axes taught by the classifier loss")
        if set(kept_labels) & set(latent_labels):
            raise ValueError(f"columns {sorted(set(kept_labels) & set(latent_labels))} are both labelled and kept")
        self.generator = PGGANGenerator(config)
        self.discriminator = Discriminator(tuple(config.channels), labels=len(latent_labels) + len(kept_labels))
        self.latent_labels, self.label_loss = latent_labels, label_loss
        self.kept_labels, self.keep_weight = kept_labels, keep_weight
        if latent_labels:   # t_k: the label of axis k is z_k > t_k (set by set_label_frequencies)
            self.register_buffer("label_thresholds", torch.zeros(len(latent_labels)))
        self.average = copy.deepcopy(self.generator).requires_grad_(False)
        self.phase_steps, self.loss, self.average_beta = phase_steps, loss, average_beta
        self.r1_weight = r1_weight

    @torch.no_grad()
    def update_average(self, step: int) -> None:
        """Move ``average`` toward the generator (beta ramps up over the first steps)."""
        beta = min(self.average_beta, (1.0 + step) / (10.0 + step))
        for mean, current in zip(self.average.parameters(), self.generator.parameters()):
            mean.lerp_(current, 1.0 - beta)
        self.average.lod.copy_(self.generator.lod)

    def set_label_frequencies(self, frequencies: Tensor) -> None:
        """``t_k = Phi^-1(1 - p_k)``: a standard normal z_k exceeds it as often as the training
        faces show attribute k (``frequencies`` ``[k]``, shares in (0, 1))."""
        shares = frequencies.to(self.label_thresholds).clamp(1e-3, 1 - 1e-3)
        self.label_thresholds.copy_(torch.special.ndtri(1.0 - shares))

    def latent_labels_of(self, z: Tensor) -> Tensor:
        """The labels ``[N,k]`` (0/1) that latents ``z`` ``[N,D]`` carry on their first k axes."""
        return (z[:, :len(self.latent_labels)] > self.label_thresholds).float()

    def forward(self, real: Tensor, step: int, attributes: Tensor | None = None,
                teacher: Teacher | None = None) -> tuple[Tensor, Tensor, dict[str, float]]:
        """(discriminator loss, generator loss, metrics) for a batch of real images (and,
        with labelled latent axes, their attributes ``[N,40]``); with a ``teacher``, its
        anchor in the generator's loss while its weight lasts."""
        lod = progressive_lod(step, self.phase_steps, self.generator.levels)
        self.generator.lod.fill_(lod)
        self.update_average(step)
        real = _at_level(real, lod, self.generator.levels)
        z = torch.randn(len(real), self.generator.latent_dim, device=real.device)
        fake = self.generator.generate(z)
        real_labels = fake_labels = None
        if self.latent_labels:
            if attributes is None:
                raise ValueError("a GAN with labelled latent axes needs the real faces' attributes")
            real_labels = attributes[:, list(self.latent_labels) + list(self.kept_labels)].float()
            fake_labels = self.latent_labels_of(z)
        project = self.label_loss == "projection"
        real_shown, fake_shown = (real_labels, fake_labels) if project else (None, None)
        frozen = {k: v.detach() for k, v in self.discriminator.named_parameters()}
        d_fake_for_g, fake_logits = functional_call(self.discriminator, frozen, (fake, lod, fake_shown),
                                                    {"with_logits": True})
        d_fake = self.discriminator(fake.detach(), lod, fake_shown)
        if self.loss == "wgan-gp":
            d_real, real_logits = self.discriminator(real, lod, real_shown, with_logits=True)
            penalty = _gradient_penalty(self.discriminator, real, fake.detach(), lod, real_shown)
            d_loss = d_fake.mean() - d_real.mean() + GP_WEIGHT * penalty + DRIFT * d_real.pow(2).mean()
            g_loss = -d_fake_for_g.mean()
        else:
            real = real.detach().requires_grad_(True)
            d_real, real_logits = self.discriminator(real, lod, real_shown, with_logits=True)
            penalty = r1_penalty(d_real, real)
            d_loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean() + self.r1_weight / 2 * penalty
            g_loss = F.softplus(-d_fake_for_g).mean()
        metrics = {"lod": lod, "wasserstein": (d_real.mean() - d_fake.mean()).item()}
        if self.latent_labels and not project:      # AC-GAN: classify real faces, make fakes show their labels
            real_error = F.binary_cross_entropy_with_logits(real_logits, real_labels)
            fake_error = F.binary_cross_entropy_with_logits(fake_logits[:, :len(self.latent_labels)], fake_labels)
            d_loss, g_loss = d_loss + real_error, g_loss + fake_error
            metrics |= {"label_error_real": real_error.item(), "label_error_fake": fake_error.item()}
        if self.kept_labels:
            keep_gap = self._keep_gap(z, fake_logits, frozen, lod)
            g_loss = g_loss + self.keep_weight * keep_gap
            metrics["keep_gap"] = keep_gap.item()
        anchor_weight = 0.0 if teacher is None else teacher.weight_at(step)
        if anchor_weight > 0:
            anchor = (fake - _at_level(teacher.images(z), lod, self.generator.levels)).abs().mean()
            g_loss = g_loss + anchor_weight * anchor
            metrics["teacher_l1"] = anchor.item()
        metrics |= {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
        return d_loss, g_loss, metrics

    def _keep_gap(self, z: Tensor, fake_logits: Tensor, frozen: dict[str, Tensor], lod: float) -> Tensor:
        """``mean |l_kept(G(z)) - l_kept(G(z'))|``: ``z [N,D]`` with its labelled coordinates
        drawn again is ``z'``; ``fake_logits [N,k+m]`` are the discriminator's (``frozen``
        parameters) logits of ``G(z)``, the last m those of the kept labels."""
        k = len(self.latent_labels)
        redrawn = torch.cat([torch.randn_like(z[:, :k]), z[:, k:]], dim=1)
        _, logits = functional_call(self.discriminator, frozen, (self.generator.generate(redrawn), lod),
                                    {"with_logits": True})
        return (fake_logits[:, k:] - logits[:, k:]).abs().mean()


def _at_level(images: Tensor, lod: float, levels: int) -> Tensor:
    """Real images as the generator draws them at ``lod``: averaged down to the level's
    resolution, upsampled back by nearest neighbour, faded like the generator."""
    def level(k: int) -> Tensor:
        if k == 0:
            return images
        return F.interpolate(F.avg_pool2d(images, 2 ** k), scale_factor=2 ** k, mode="nearest")

    low = math.floor(lod)
    fade = lod - low
    out = level(low)
    return out + fade * (level(low + 1) - out) if fade > 0 else out


def input_gradient(scores: Tensor, images: Tensor) -> Tensor:
    """``d sum(scores) / d images`` ``[N,3,H,W]`` in fp32, kept in the graph for a penalty.
    Under an fp16 gradient scaler the sum is scaled before ``autograd.grad`` and the
    gradient unscaled after (PyTorch's AMP recipe for gradient penalties)."""
    scale = gradient_scale()
    grad, = torch.autograd.grad(scores.sum() * scale, images, create_graph=True)
    return grad.float() / scale


def r1_penalty(d_real: Tensor, real: Tensor) -> Tensor:
    """R1: mean over real images of ``||grad_x D(x)||^2``."""
    return input_gradient(d_real, real).flatten(1).pow(2).sum(dim=1).mean()


def _gradient_penalty(discriminator: Discriminator, real: Tensor, fake: Tensor, lod: float,
                      labels: Tensor | None = None) -> Tensor:
    """WGAN-GP: ``(||grad D(x_mix)|| - 1)^2`` on random blends of real and fake images (scored
    with the real images' ``labels`` where the axes are labelled)."""
    alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
    mixed = (real + alpha * (fake - real)).requires_grad_(True)
    grad = input_gradient(discriminator(mixed, lod, labels), mixed)
    return (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def progressive_gan_loss(model: nn.Module, batch: tuple[Tensor, ...], step: int,
                         teacher: Teacher | None = None) -> tuple[Tensor, dict[str, float]]:
    """``common.train`` loss: the sum of both losses (each reaches only its own network);
    ``functools.partial(progressive_gan_loss, teacher=...)`` for a run with a teacher."""
    d_loss, g_loss, metrics = model(batch[0], step, batch[1] if len(batch) > 1 else None, teacher)
    return d_loss + g_loss, metrics


QUALITY_ATTRIBUTES = ("Smiling", "Male", "Eyeglasses", "Bangs", "Bald", "Narrow_Eyes", "Mouth_Slightly_Open", "Young")


@torch.no_grad()
def generator_samples(generator: PGGANGenerator, n: int, seed: int = 0) -> Tensor:
    """``[n,3,H,W]`` faces from ``n`` seeded latents, drawn in eval mode (the generator's own
    mode is restored)."""
    was_training = generator.training
    generator.eval()
    samples = decode_faces(generator, generator.sample_latent(n, seed=seed))
    generator.train(was_training)
    return samples


@torch.no_grad()
def sample_quality(generator: PGGANGenerator, classifier, real: SynthFaces, n: int | None = None,
                   seed: int = 0) -> dict[str, float]:
    """Frechet distance in the classifier's feature space between ``n`` samples (default as
    many as ``real`` faces) and the ``real`` faces, and the share of samples and of real
    faces the classifier reads as having each of ``QUALITY_ATTRIBUTES`` (``sample/NAME``,
    ``data/NAME``)."""
    samples = generator_samples(generator, n or len(real), seed)
    images = real.images(slice(None))
    metrics = {"frechet": classifier_frechet(classifier, samples, images)}
    read_samples, read_data = classifier.read(samples).probabilities > 0.5, classifier.read(images).probabilities > 0.5
    for name in QUALITY_ATTRIBUTES:
        column = classifier.attribute(name)
        metrics[f"sample/{name}"] = float(read_samples[:, column].float().mean())
        metrics[f"data/{name}"] = float(read_data[:, column].float().mean())
    return metrics
