"""Live slider panels (core ipywidgets only, so they work in JupyterLab and on Colab).

``EditPanel``: one slider per direction over any ``LatentModel``; the face updates while
you drag. ``InterpolationPanel``: two faces and a blend slider (lerp or slerp).
Used by every method notebook.
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import torch
from torch import Tensor

from .images import FaceImageError, load_face_image, save_gif, to_png_bytes
from .latent import blend, condition, coordinate, unit
from .models.base import LatentModel
from .files import atomic_path

SLIDER_STEP = 0.05


def _download_link(path: Path, data: bytes, mime: str) -> str:
    encoded = base64.b64encode(data).decode()
    return (f'saved <code>{html.escape(str(path))}</code> · '
            f'<a download="{html.escape(path.name)}" href="data:{mime};base64,{encoded}">download</a>')


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """``(name, content)`` of each file in a ``FileUpload`` value, in either format:
    ipywidgets 8 (a tuple of ``{"name", "content": memoryview, ...}``) or ipywidgets 7, as
    on Colab (a dict ``{file name: {"metadata": {"name", ...}, "content": bytes}}``)."""
    if isinstance(value, dict):
        return [(item.get("metadata", {}).get("name", key), bytes(item["content"])) for key, item in value.items()]
    return [(item.get("name", "the file"), bytes(item["content"])) for item in value]


class EditPanel:
    """Edit one face along named directions with live sliders.

    A slider shows where the face sits along its direction (``coordinate`` minus the
    direction's ``centre``), so it opens where the face already is; moving it by ``s``
    moves the code by ``s`` along the unit direction. With "keep other attributes" on, the
    moved direction is first conditioned on all the others (``latent.condition``), so
    their coordinates stay put.

    Args:
        model: any ``LatentModel``.
        directions: ``{name: [D] tensor}``.
        centres: ``{name: coordinate of the attribute boundary}`` (default 0).
        faces: ``[K,3,H,W]`` faces that "new face" encodes in turn; default: latent samples.
        scorer: ``images [N,3,H,W] -> {name: probability}`` shown under the sliders.
        limit: slider half-range.
        save_dir: where PNG and GIF files are written.
    """

    def __init__(self, model: LatentModel, directions: dict[str, Tensor], *,
                 centres: dict[str, float] | None = None, faces: Tensor | None = None,
                 scorer=None, seed: int = 0, limit: float = 3.0, display_size: int = 256,
                 save_dir: str | Path = "edits") -> None:
        if not directions:
            raise ValueError("EditPanel needs at least one direction")
        self.model, self.faces, self.scorer, self.limit = model, faces, scorer, limit
        self.names = list(directions)
        self.directions = {n: unit(d.detach().float().cpu()) for n, d in directions.items()}
        self.centres = {n: float((centres or {}).get(n, 0.0)) for n in self.names}
        self.seed, self.save_dir, self._saved = seed, Path(save_dir), 0
        self._holding = False
        self._moves = self._plain_moves()
        self.image = widgets.Image(format="png", width=display_size, height=display_size)
        self.sliders = {n: widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=SLIDER_STEP, description=n,
                                               continuous_update=True, readout_format="+.2f",
                                               style={"description_width": "165px"},
                                               layout=widgets.Layout(width="460px"))
                        for n in self.names}
        self.keep_others = widgets.Checkbox(value=False, description="keep other attributes", indent=False)
        self.reset_button = widgets.Button(description="reset", icon="undo")
        self.new_face_button = widgets.Button(description="new face", icon="refresh")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
        self.gif_direction = widgets.Dropdown(options=self.names, layout=widgets.Layout(width="160px"))
        self.save_png_button = widgets.Button(description="save PNG", icon="download")
        self.save_gif_button = widgets.Button(description="save sweep GIF", icon="film")
        self.status = widgets.HTML()
        self.scores = widgets.HTML()
        for slider in self.sliders.values():
            slider.observe(lambda _: self.refresh(), names="value")
        self.keep_others.observe(self._on_keep_others, names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.new_face_button.on_click(lambda _: self.new_face())
        self.upload.observe(self._on_upload, names="value")
        self.save_png_button.on_click(lambda _: self.save_png())
        self.save_gif_button.on_click(lambda _: self.save_gif())
        controls = widgets.VBox([
            *self.sliders.values(),
            widgets.HBox([self.reset_button, self.new_face_button, self.keep_others]),
            widgets.HBox([self.upload, self.save_png_button, self.gif_direction, self.save_gif_button]),
            self.status, self.scores,
        ])
        self.widget = widgets.HBox([self.image, controls])
        self.widget.add_class("fes-edit-panel")
        self.set_face(self._start_code())

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- the face and its code -------------------------------------------------------------
    def _start_code(self) -> Tensor:
        if self.faces is None:
            return self.model.sample_latent(1, seed=self.seed)[0]
        index = self.seed % len(self.faces)
        return self.model.encode(self.faces[index:index + 1])[0]

    def set_face(self, code: Tensor) -> None:
        """Make ``code`` ``[D]`` the face being edited; sliders jump to its coordinates."""
        self.base = code.detach().float().cpu()
        self.start = {n: float(coordinate(self.base[None], self.directions[n])[0]) - self.centres[n]
                      for n in self.names}
        with self._sliders_held():
            for name, slider in self.sliders.items():
                value = self.start[name]
                slider.min = min(-self.limit, value - 0.5)
                slider.max = max(self.limit, value + 0.5)
                slider.value = value
        self.refresh()

    def code(self) -> Tensor:
        """The edited code ``[D]``: the base plus every slider's offset along its move."""
        z = self.base.clone()
        for name in self.names:
            z += (self.sliders[name].value - self.start[name]) * self._moves[name]
        return z

    def render(self, code: Tensor) -> Tensor:
        """``[D]`` -> ``[3,H,W]`` in [-1,1]."""
        with torch.no_grad():
            return self.model.decode(code[None])[0].float().cpu()

    def refresh(self) -> None:
        """Decode the current code into the image (and the scores)."""
        if self._holding:
            return
        face = self.render(self.code())
        self.image.value = to_png_bytes(face)
        if self.scorer is not None:
            scores = self.scorer(face[None])
            self.scores.value = " · ".join(f"{n} <b>{p:.2f}</b>" for n, p in scores.items())

    @contextmanager
    def _sliders_held(self) -> Iterator[None]:
        """Within the block, slider changes do not redraw (one redraw afterwards)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    # -- buttons ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Sliders back to where the face started."""
        with self._sliders_held():
            for name, slider in self.sliders.items():
                slider.value = self.start[name]
        self.refresh()
        self.status.value = ""

    def new_face(self) -> None:
        self.seed += 1
        self.set_face(self._start_code())
        self.status.value = ""

    def _plain_moves(self) -> dict[str, Tensor]:
        return dict(self.directions)

    def _conditioned_moves(self) -> dict[str, Tensor]:
        return {n: condition(self.directions[n], *[self.directions[o] for o in self.names if o != n])
                if len(self.names) > 1 else self.directions[n] for n in self.names}

    def _on_keep_others(self, change: dict) -> None:
        # The face keeps its current edit: fold it into the base, then change how sliders move.
        current = self.code()
        self._moves = self._conditioned_moves() if change["new"] else self._plain_moves()
        self.base = current
        self.start = {n: s.value for n, s in self.sliders.items()}
        self.refresh()

    def _on_upload(self, change: dict) -> None:
        files = uploaded_files(change["new"])
        if not files:
            return
        name, content = files[0]
        try:
            face = load_face_image(content, self.model.image_size, name=name)
            self.set_face(self.model.encode(face[None])[0])
            self.status.value = f"encoded <code>{html.escape(name)}</code>"
        except FaceImageError as error:
            self.status.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
        except Exception as error:  # the panel must keep working whatever the file holds
            self.status.value = (f'<span style="color:#b00">could not use {html.escape(name)}: '
                                 f'{html.escape(type(error).__name__)}: {html.escape(str(error))}</span>')
        finally:
            self.upload.value = type(self.upload.value)()   # () in ipywidgets 8, {} in 7

    def _next_path(self, suffix: str) -> Path:
        self.save_dir.mkdir(parents=True, exist_ok=True)
        self._saved += 1
        return self.save_dir / f"face_{self.seed}_{self._saved:03d}.{suffix}"

    def save_png(self) -> Path:
        """Write the current face as PNG; the status line gets a download link."""
        path = self._next_path("png")
        data = self.image.value
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        self.status.value = _download_link(path, data, "image/png")
        return path

    def sweep(self, name: str, frames: int = 17) -> Tensor:
        """``[2*frames-2,3,H,W]``: the current face moved along ``name`` from -limit to +limit
        and back (relative to where it is now)."""
        steps = torch.linspace(-self.limit, self.limit, frames)
        codes = self.code()[None] + steps[:, None] * self._moves[name][None]
        with torch.no_grad():
            faces = self.model.decode(codes).float().cpu()
        return torch.cat([faces, faces.flip(0)[1:-1]])

    def save_gif(self) -> Path:
        """Write a strength sweep of the chosen direction as an animated GIF."""
        path = self._next_path("gif")
        with atomic_path(path) as tmp:
            save_gif(self.sweep(self.gif_direction.value), str(tmp))
        self.status.value = _download_link(path, path.read_bytes(), "image/gif")
        return path


def move_latency_ms(panel: EditPanel, moves: int = 60) -> list[float]:
    """Milliseconds of each of ``moves`` slider moves on the panel's first slider (edit,
    decode, PNG, widget update), sweeping the slider's range."""
    slider = next(iter(panel.sliders.values()))
    times = []
    for k in range(moves):
        start = time.perf_counter()
        slider.value = slider.min + (slider.max - slider.min) * (k % 20) / 20
        times.append((time.perf_counter() - start) * 1000)
    return times


def slider_latency(model: LatentModel, moves: int = 60, seed: int = 0) -> tuple[float, float]:
    """(median, 90th percentile) milliseconds of one slider move on ``model`` in a panel
    with two random directions, after a warm-up sweep."""
    generator = torch.Generator().manual_seed(seed)
    panel = EditPanel(model, {name: torch.randn(model.latent_dim, generator=generator) for name in ("a", "b")},
                      seed=seed)
    move_latency_ms(panel, 20)
    times = sorted(move_latency_ms(panel, moves))
    return times[len(times) // 2], times[int(0.9 * len(times))]


class InterpolationPanel:
    """Two faces and a blend slider: ``t = 0`` shows the first, ``t = 1`` the second.

    Args:
        model: any ``LatentModel``.
        z1, z2: ``[D]`` codes of the two faces.
        labels: captions of the two end faces.
    """

    def __init__(self, model: LatentModel, z1: Tensor, z2: Tensor, labels: tuple[str, str] = ("A", "B"),
                 display_size: int = 192) -> None:
        self.model = model
        self.z1, self.z2 = z1.detach().float().cpu(), z2.detach().float().cpu()
        size = dict(width=display_size, height=display_size)
        self.left = widgets.Image(value=self._png(self.z1), format="png", **size)
        self.right = widgets.Image(value=self._png(self.z2), format="png", **size)
        self.image = widgets.Image(format="png", **size)
        self.slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.02, description="blend t",
                                          continuous_update=True, readout_format=".2f")
        self.mode = widgets.ToggleButtons(options=["lerp", "slerp"], value="lerp")
        self.slider.observe(lambda _: self.refresh(), names="value")
        self.mode.observe(lambda _: self.refresh(), names="value")
        caption = lambda text: widgets.HTML(f"<center>{html.escape(text)}</center>")  # noqa: E731
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.left, caption(labels[0])]),
                          widgets.VBox([self.image, caption("blend")]),
                          widgets.VBox([self.right, caption(labels[1])])]),
            widgets.HBox([self.slider, self.mode]),
        ])
        self.refresh()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _png(self, code: Tensor) -> bytes:
        with torch.no_grad():
            return to_png_bytes(self.model.decode(code[None])[0].float().cpu())

    def refresh(self) -> None:
        self.image.value = self._png(blend(self.z1, self.z2, self.slider.value, self.mode.value))
