"""The scoreboard's targets: what "the smile visibly works" means in numbers, checked
against measured figures (notebook 05 prints the table; `make results` puts it in docs/RESULTS.md).

Edit targets apply to the four method families (VAE, DFC-VAE, Glow, PGGAN + InterFaceGAN)
on held-out faces, with the scoreboard's definitions (``common.judge.scoreboard``); model targets
apply to one model each. A method matches a target when its name starts with the family's
name ("Glow (32x32)" is a Glow).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FAMILIES = ("VAE", "DFC-VAE", "Glow", "PGGAN + InterFaceGAN")


@dataclass(frozen=True)
class Target:
    """``label``: what is measured; met when the value is at least ``required`` (or at most,
    with ``at_most``)."""

    label: str
    required: float
    at_most: bool = False

    def met(self, value: float) -> bool:
        return value <= self.required if self.at_most else value >= self.required

    def row(self, method: str, value: float) -> dict[str, object]:
        bound = f"{'<=' if self.at_most else '>='} {self.required:g}"
        return {"method": method, "target": self.label, "measured": value, "required": bound,
                "met": "yes" if self.met(value) else "NO"}


# (edit, strength, figure) -> target; "FD ratio" is realism after the edit over realism before.
EDIT_TARGETS = {
    ("smile", 1.0, "success"): Target("smile success, strength 1", 0.85),
    ("smile", 2.0, "success"): Target("smile success, strength 2", 0.95),
    ("narrow eyes", 1.0, "success"): Target("narrow eyes success, strength 1", 0.80),
    ("pose", 1.0, "success"): Target("pose success, strength 1", 0.80),
    ("smile", 1.0, "identity change"): Target("smile identity change (data SD)", 0.10, at_most=True),
    ("narrow eyes", 1.0, "identity change"): Target("narrow eyes identity change (data SD)", 0.10, at_most=True),
    ("pose", 1.0, "identity change"): Target("pose identity change (data SD)", 0.20, at_most=True),
    ("smile", 1.0, "FD ratio"): Target("smile-edited FD / unedited FD", 1.5, at_most=True),
}
VAE_PIXEL_MSE = Target("held-out pixel MSE", 0.004, at_most=True)
GENERATOR_FRECHET = Target("sample Frechet distance", 15.0, at_most=True)
GENERATOR_FREQUENCY = Target("largest attribute frequency gap to the data", 0.08, at_most=True)


def family(method: str, families: Sequence[str] = FAMILIES) -> str | None:
    """The family of ``families`` that ``method`` belongs to, or None (PCA, beta-VAE, other
    GAN directions)."""
    return next((name for name in families if method.startswith(name)), None)


def edit_target_rows(scores: Sequence[Mapping[str, object]],
                     families: Sequence[str] = FAMILIES) -> list[dict[str, object]]:
    """One row per method of ``families`` and edit target found in ``scores``: scoreboard
    rows with ``method``, ``edit``, ``strength`` and the ``EditScorer.score`` figures."""
    rows = []
    for score in scores:
        if family(str(score["method"]), families) is None:
            continue
        figures = dict(score)
        if "realism (FD)" in figures and "realism before (FD)" in figures:
            figures["FD ratio"] = float(figures["realism (FD)"]) / float(figures["realism before (FD)"])
        for (edit, strength, figure), target in EDIT_TARGETS.items():
            if score["edit"] == edit and float(score["strength"]) == strength and figure in figures:
                rows.append(target.row(str(score["method"]), float(figures[figure])))
    return rows


def model_target_rows(vae_pixel_mse: float, generator_metrics: Mapping[str, float]) -> list[dict[str, object]]:
    """The VAE's reconstruction target and the PGGAN's sample targets, from its manifest
    metrics (``frechet``, ``sample/NAME`` and ``data/NAME`` frequencies)."""
    gaps = [abs(value - generator_metrics[f"data/{key.split('/', 1)[1]}"])
            for key, value in generator_metrics.items() if key.startswith("sample/")]
    return [VAE_PIXEL_MSE.row("VAE", vae_pixel_mse),
            GENERATOR_FRECHET.row("PGGAN", float(generator_metrics["frechet"])),
            GENERATOR_FREQUENCY.row("PGGAN", max(gaps))]
