"""Figures the notebooks show: image grids, labelled rows, interpolation strips, loss curves.

Images come in as ``[N,3,H,W]`` in [-1,1]; ``common.images.to_uint8`` is the only converter.
Faces are drawn with nearest-neighbour scaling: every model pixel stays visible as it is
(no smoothing that would flatter blurry models), and the stored figures compress well.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from .images import to_uint8
from .train.loop import LATE_FRACTION, History


def show_code(*objects: Callable | type) -> object:
    """The source of ``common``'s functions, methods or classes, syntax-highlighted in a
    notebook (an ``IPython.display.Code``): a notebook shows the code under its formula."""
    from IPython.display import Code

    return Code("\n\n".join(inspect.getsource(item) for item in objects), language="python")


def image_grid(images: Tensor, ncol: int = 8, titles: Sequence[str] | None = None,
               scale: float = 1.3, title: str | None = None) -> Figure:
    """A grid of faces, ``ncol`` per row, with an optional caption under each."""
    pixels = to_uint8(images)
    nrow = -(-len(pixels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * scale, nrow * scale * (1.15 if titles else 1.0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(pixels):
            ax.imshow(pixels[k], interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def labelled_rows(rows: Sequence[Tensor], row_labels: Sequence[str] | None = None,
                  col_labels: Sequence[str] | None = None, scale: float = 1.3,
                  title: str | None = None) -> Figure:
    """Rows of equally many faces; labels on the left and above (e.g. strength -2 .. +2)."""
    ncol = rows[0].shape[0]
    fig, axes = plt.subplots(len(rows), ncol, figsize=(ncol * scale + (1.2 if row_labels else 0),
                                                       len(rows) * scale + 0.4), squeeze=False)
    for r, row in enumerate(rows):
        for c, face in enumerate(to_uint8(row)):
            ax = axes[r, c]
            ax.imshow(face, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if r == 0 and col_labels is not None:
                ax.set_title(col_labels[c], fontsize=9)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[r], fontsize=9, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def strength_labels(strengths: Sequence[float]) -> list[str]:
    """Column labels for an edit sweep: '-2', '-1', '0', '+1', '+2'."""
    return [f"{s:+.2g}" if s else "0" for s in strengths]


def interpolation_strip(rows: Sequence[Tensor], row_labels: Sequence[str] | None = None,
                        title: str | None = None) -> Figure:
    """Interpolations, one per row, with the blend factor above each column."""
    steps = rows[0].shape[0]
    labels = [f"{t:.2f}" for t in np.linspace(0.0, 1.0, steps)]
    return labelled_rows(rows, row_labels, labels, title=title)


def loss_curves(history: Mapping[str, Sequence[float]], xlabel: str = "step",
                title: str | None = None, steps: Sequence[int] | None = None) -> Figure:
    """One line per named series against ``steps`` (default 1, 2, ...), log scale when
    values span more than a decade."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1) if steps is None else steps, values, label=name)
    values = np.concatenate([np.asarray(v, dtype=float) for v in history.values()])
    positive = values[values > 0]
    if len(positive) and positive.max() / positive.min() > 10:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def training_curves(history: History, keys: Sequence[str] = ("loss",), title: str | None = None,
                    fraction: float = LATE_FRACTION) -> Figure:
    """A run's logged ``keys`` (``train.History``) against the step, the last ``fraction`` of
    the run shaded, and in the legend how much each still fell there (``History.late_fall``):
    a curve that has flattened falls by a percent or less."""
    labels = {key: f"{key} (last {fraction:.0%} of the run: {-100 * history.late_fall(key, fraction):+.1f}%)"
              for key in keys}
    fig = loss_curves({labels[key]: history.values[key] for key in keys}, steps=history.steps, title=title)
    end = history.steps[-1]
    fig.axes[0].axvspan(end * (1 - fraction), end, color="grey", alpha=0.15, lw=0)
    return fig


def _cells(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None) -> tuple[list[str], list[list[str]]]:
    """The column names and each row's formatted cells; ``formats[prefix]`` formats every
    column whose name starts with ``prefix``."""
    formats = formats or {}
    keys = list(rows[0])
    spec = {k: next((f for prefix, f in formats.items() if k.startswith(prefix)), "") for k in keys}
    return keys, [[format(row[k], spec[k]) for k in keys] for row in rows]


def text_table(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None = None) -> str:
    """Rows of equal keys as an aligned plain-text table; ``formats[prefix]`` is the format
    spec (``".0%"``, ``".3f"``) of every column whose name starts with ``prefix``."""
    keys, cells = _cells(rows, formats)
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.rjust(w) for k, w in zip(keys, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def markdown_table(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None = None) -> str:
    """The same rows as ``text_table``, as a Markdown table (for files under ``docs/``)."""
    keys, cells = _cells(rows, formats)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def bar_table(values: Mapping[str, float], title: str | None = None, xlabel: str = "") -> Figure:
    """Horizontal bars, one per name (attribute frequencies, accuracies)."""
    names = list(values)
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(names) + 0.8))
    ax.barh(names, [values[n] for n in names], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def heatmap(matrix: np.ndarray, row_names: Sequence[str], col_names: Sequence[str],
            title: str | None = None, vmax: float = 1.0) -> Figure:
    """A signed matrix (correlations, cosines) with its values written in the cells."""
    fig, ax = plt.subplots(figsize=(0.45 * len(col_names) + 2.2, 0.4 * len(row_names) + 1.4))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_xticks(range(len(col_names)), col_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_names)), row_names, fontsize=8)
    for (r, c), value in np.ndenumerate(matrix):
        ax.text(c, r, f"{value:.1f}".replace("0.", "."), ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def training_figure(history: Mapping[str, Sequence[float]], steps: Sequence[int], samples: Tensor | None,
                    ncol: int = 8) -> Figure:
    """Loss curves (left) beside a grid of current samples or reconstructions (right)."""
    fig = plt.figure(figsize=(11, 3.4))
    curves = fig.add_subplot(1, 2, 1)
    for name, values in history.items():
        curves.plot(steps, values, label=name)
    curves.set_xlabel("step")
    curves.set_yscale("log")
    curves.grid(alpha=0.3)
    curves.legend()
    if samples is not None:
        pixels = to_uint8(samples)
        rows = -(-len(pixels) // ncol)
        h, w = pixels.shape[1:3]
        sheet = np.ones((rows * h, ncol * w, 3), dtype=np.uint8) * 255
        for k, face in enumerate(pixels):
            r, c = divmod(k, ncol)
            sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = face
        grid = fig.add_subplot(1, 2, 2)
        grid.imshow(sheet, interpolation="nearest")
        grid.axis("off")
    fig.tight_layout()
    return fig


class LiveTraining:
    """An ``on_log`` callback for ``common.train.train`` that redraws one figure in place
    every ``every`` steps: the chosen loss curves and ``preview()`` (e.g. reconstructions)."""

    def __init__(self, preview=None, every: int = 50, keys: Sequence[str] = ("loss",)) -> None:
        self.preview, self.every, self.keys = preview, every, tuple(keys)
        self._handle = None

    def __call__(self, step: int, history) -> None:
        if step % self.every:
            return
        from IPython.display import display

        samples = self.preview() if self.preview is not None else None
        fig = training_figure({k: history.values[k] for k in self.keys}, history.steps, samples)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)


def conditioning_geometry(normal: Tensor, other: Tensor, names: tuple[str, str] = ("Smiling", "Male")) -> Figure:
    """InterFaceGAN's conditional edit in a 2-D latent: the two boundaries (lines through
    the origin, normals ``normal [2]`` and ``other [2]``), a code, and where a step along
    ``normal`` and along ``condition(normal, other)`` takes it."""
    from .latent import condition, unit

    n1, n2 = unit(normal.double()), unit(other.double())
    conditioned = condition(n1, n2)
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    line = np.linspace(-2.2, 2.2, 2)
    for n, name, colour in ((n1, names[0], "tab:orange"), (n2, names[1], "tab:blue")):
        along = np.array([-float(n[1]), float(n[0])])                   # the boundary: n . z = 0
        ax.plot(line * along[0], line * along[1], color=colour, lw=1.5, label=f"{name} boundary")
        ax.annotate("", xy=(float(n[0]), float(n[1])), xytext=(0, 0),
                    arrowprops=dict(arrowstyle="->", color=colour, lw=1.5))
        ax.text(1.1 * float(n[0]), 1.1 * float(n[1]), f"$n_{{\\mathrm{{{name}}}}}$", color=colour)
    start = np.array([-0.9, -0.35])
    for vector, label, style, side in ((n1, "step along $n_1$", "-", "left"),
                                       (conditioned, "step along $n_{1|2}$", "--", "right")):
        end = start + 1.3 * vector.numpy()
        ax.annotate("", xy=tuple(end), xytext=tuple(start), arrowprops=dict(arrowstyle="->", color="k", ls=style))
        ax.text(end[0] + (0.08 if side == "left" else -0.08), end[1] + (-0.15 if side == "left" else 0.08), label,
                fontsize=9, ha=side)
    ax.plot(*start, "ko")
    ax.text(start[0] - 0.1, start[1] - 0.25, "z", fontsize=11)
    ax.set_xlim(-2.2, 2.2)
    ax.set_ylim(-2.2, 2.2)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"$n_{{1|2}}$: {names[0]} normal with the {names[1]} normal projected out", fontsize=9)
    fig.tight_layout()
    return fig
