"""Live slider panels (core ipywidgets only, so they work in JupyterLab and on Colab).

``EditPanel``: one slider per direction over any ``LatentModel``; the face updates while
you drag. ``InterpolationPanel``: two faces and a blend slider (lerp or slerp).
Used by every method notebook.
"""

from __future__ import annotations

import html
import io
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import torch
from torch import Tensor

from .arithmetic import decode_faces
from .config import model_device
from .direction import Direction, along
from .edit_state import EditState
from .images import FaceImageError, display_bytes, load_face_image, save_gif, to_png_bytes
from .latent import blend
from .models.base import LatentModel
from .panel_files import download_link, empty_upload, save_file, uploaded_files

SLIDER_STEP = 0.05


class EditPanel:
    """Edit one face along named directions with live sliders: the widgets that draw an
    ``EditState`` (what a slider position means is explained there). Codes stay on the
    model's device; only the displayed image comes back to the CPU.

    A model larger than the display with a ``preview(codes, size)`` method (the 1024x1024
    PGGAN) is drawn at a preview resolution while a slider moves, and at full quality once
    the sliders have rested ``settle_ms`` milliseconds (and for "save PNG"). The preview
    starts at ``preview_size`` pixels and adapts to the machine (``adapt_preview_size``): it
    halves while a move takes longer than ``preview_budget_ms`` and doubles, up to the
    display size, while it takes under a quarter of it (a GPU previews at display size).

    Args:
        model: any ``LatentModel``.
        directions: one ``common.direction.Direction`` per slider: a slider reads the
            face's position in the direction's gaps from its centre (strength 1 = one gap).
        faces: ``[K,3,H,W]`` faces that "new face" encodes in turn; default: latent samples.
        scorer: ``images [N,3,H,W] -> {name: probability}`` shown under the sliders.
        limit: slider half-range.
        display_size: the shown image's width in pixels.
        save_dir: where PNG and GIF files are written.
        preview_size: the first resolution drawn while dragging a large model (on a 2-core
            CPU the 1024 PGGAN takes about 2.4 s at 1024 px, 0.7 s at 256, 0.27 s at 64).
        preview_budget_ms: the time one preview move should take (None: always ``preview_size``).
        settle_ms: with a preview, how long the sliders rest before the full-quality image.
        vectors_of: ``code [D] -> {name: [D]}``, each face's own vectors (``latent.Lookalikes``);
            given, a checkbox "each face's own vector" makes the sliders move the face along
            them (``EditState.set_own_vectors``).
    """

    def __init__(self, model: LatentModel, directions: Sequence[Direction], *,
                 faces: Tensor | None = None, scorer=None, seed: int = 0, limit: float = 3.0,
                 display_size: int = 256, save_dir: str | Path = "edits", preview_size: int = 64,
                 preview_budget_ms: float | None = 150.0, settle_ms: int = 300,
                 vectors_of: Callable[[Tensor], dict[str, Tensor]] | None = None) -> None:
        if not directions:
            raise ValueError("EditPanel needs at least one direction")
        self.model, self.faces, self.scorer, self.limit = model, faces, scorer, limit
        self.device = model_device(model)
        self.state = EditState(directions, device=self.device, vectors_of=vectors_of)
        self.seed, self.save_dir, self._saved = seed, Path(save_dir), 0
        self._holding = False
        self.display_size, self.preview_size, self.settle_ms = display_size, preview_size, settle_ms
        self.preview_budget_ms = preview_budget_ms
        self.previews = hasattr(model, "preview") and model.image_size > display_size and settle_ms > 0
        self._settle_timer: threading.Timer | None = None
        self.image = widgets.Image(format="png", width=display_size, height=display_size)
        self.sliders = {n: widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=SLIDER_STEP,
                                               description=self.state.directions[n].label,
                                               continuous_update=True, readout_format="+.2f",
                                               style={"description_width": "165px"},
                                               layout=widgets.Layout(width="460px"))
                        for n in self.state.names}
        self.keep_others = widgets.Checkbox(value=False, description="keep other attributes", indent=False)
        self.own_vectors = widgets.Checkbox(value=False, description="each face's own vector", indent=False)
        self.reset_button = widgets.Button(description="reset", icon="undo")
        self.new_face_button = widgets.Button(description="new face", icon="refresh")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
        self.gif_direction = widgets.Dropdown(options=self.state.names, layout=widgets.Layout(width="160px"))
        self.save_png_button = widgets.Button(description="save PNG", icon="download")
        self.save_gif_button = widgets.Button(description="save sweep GIF", icon="film")
        self.status = widgets.HTML()
        self.scores = widgets.HTML()
        for name, slider in self.sliders.items():
            slider.observe(lambda change, name=name: self._on_slider(name, change["new"]), names="value")
        self.keep_others.observe(lambda change: self._on_keep_others(change["new"]), names="value")
        self.own_vectors.observe(lambda change: self._on_own_vectors(change["new"]), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.new_face_button.on_click(lambda _: self.new_face())
        self.upload.observe(self._on_upload, names="value")
        self.save_png_button.on_click(lambda _: self.save_png())
        self.save_gif_button.on_click(lambda _: self.save_gif())
        controls = widgets.VBox([
            *self.sliders.values(),
            widgets.HBox([self.reset_button, self.new_face_button, self.keep_others,
                          *([self.own_vectors] if vectors_of is not None else [])]),
            widgets.HBox([self.upload, self.save_png_button, self.gif_direction, self.save_gif_button]),
            self.status, self.scores,
        ])
        # flex-start: the image keeps its square size instead of stretching to the controls' height
        self.widget = widgets.HBox([self.image, controls], layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("fes-edit-panel")
        self.set_face(self._start_code())

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # -- the face and its code -------------------------------------------------------------
    def _start_code(self) -> Tensor:
        if self.faces is None:
            return self.model.sample_latent(1, seed=self.seed)[0].to(self.device)
        index = self.seed % len(self.faces)        # no torch.no_grad: a GAN's encode is an optimisation
        return self.model.encode(self.faces[index:index + 1].to(self.device))[0].detach()

    def set_face(self, code: Tensor) -> None:
        """Make ``code`` ``[D]`` the face being edited; sliders jump to its positions."""
        self._show_positions(self.state.set_base(code), widen=True)

    def code(self) -> Tensor:
        """The edited code ``[D]`` (on the model's device)."""
        return self.state.code()

    def render(self, code: Tensor) -> Tensor:
        """``[D]`` -> ``[3,H,W]`` in [-1,1], on the CPU."""
        return decode_faces(self.model, code[None])[0].float()

    def _show(self, face: Tensor) -> None:
        self.image.value, self.image.format = display_bytes(face, self.display_size)

    def refresh(self) -> None:
        """Decode the current code into the image at full quality (and the scores)."""
        if self._holding:
            return
        face = self.render(self.code())
        self._show(face)
        if self.scorer is not None:
            scores = self.scorer(face[None])
            self.scores.value = " · ".join(f"{n} <b>{p:.2f}</b>" for n, p in scores.items())

    def preview(self) -> None:
        """The current code at the model's preview resolution; the full image follows once
        the sliders have rested ``settle_ms``."""
        start = time.perf_counter()
        with torch.no_grad():
            self._show(self.model.preview(self.code()[None], self.preview_size)[0].float().cpu())
        if self.preview_budget_ms is not None:
            elapsed_ms = (time.perf_counter() - start) * 1000
            self.preview_size = adapt_preview_size(self.preview_size, elapsed_ms, self.preview_budget_ms,
                                                   ceiling=self.display_size)
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        self._settle_timer = threading.Timer(self.settle_ms / 1000, self.refresh)
        self._settle_timer.daemon = True
        self._settle_timer.start()

    def _on_slider(self, name: str, position: float) -> None:
        if not self._holding:
            self.state.move(name, position)
            if self.previews:
                self.preview()
            else:
                self.refresh()

    @contextmanager
    def _sliders_held(self) -> Iterator[None]:
        """Within the block, slider changes neither move the state nor redraw."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _show_positions(self, positions: dict[str, float], widen: bool = False) -> None:
        """Sliders to ``positions`` (widening their range to fit when ``widen``), one redraw."""
        with self._sliders_held():
            for name, slider in self.sliders.items():
                if widen:
                    slider.min = min(-self.limit, positions[name] - 0.5)
                    slider.max = max(self.limit, positions[name] + 0.5)
                slider.value = positions[name]
        self.refresh()

    # -- buttons ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Sliders back to where the face started."""
        self._show_positions(self.state.reset())
        self.status.value = ""

    @contextmanager
    def _working(self, what: str) -> Iterator[None]:
        """Says ``what`` is being done in the status line, with the buttons off, until it ends."""
        buttons = (self.new_face_button, self.reset_button, self.upload, self.save_png_button, self.save_gif_button)
        self.status.value = f"<i>{html.escape(what)}…</i>"
        for button in buttons:
            button.disabled = True
        try:
            yield
        finally:
            for button in buttons:
                button.disabled = False

    def new_face(self) -> None:
        self.seed += 1
        with self._working("encoding the next face"):
            self.set_face(self._start_code())
        self.status.value = ""

    def _on_keep_others(self, on: bool) -> None:
        self.state.set_keep_others(on)
        self.refresh()

    def _on_own_vectors(self, on: bool) -> None:
        self.state.set_own_vectors(on)
        self.refresh()

    def _on_upload(self, change: dict) -> None:
        files = uploaded_files(change["new"])
        if not files:
            return
        name, content = files[0]
        try:
            with self._working(f"encoding {name}"):
                face = load_face_image(content, self.model.image_size, name=name)
                self.set_face(self.model.encode(face[None].to(self.device))[0].detach())
            self.status.value = f"encoded <code>{html.escape(name)}</code>"
        except FaceImageError as error:
            self.status.value = f'<span style="color:#b00">{html.escape(str(error))}</span>'
        except Exception as error:  # the panel must keep working whatever the file holds
            self.status.value = (f'<span style="color:#b00">could not use {html.escape(name)}: '
                                 f'{html.escape(type(error).__name__)}: {html.escape(str(error))}</span>')
        finally:
            self.upload.value = empty_upload(self.upload.value)

    def _next_name(self, suffix: str) -> str:
        self._saved += 1
        return f"face_{self.seed}_{self._saved:03d}.{suffix}"

    def save_png(self) -> Path:
        """Write the current face as PNG at the model's full resolution; the status line gets
        a download link."""
        data = to_png_bytes(self.render(self.code()))
        path = save_file(self.save_dir, self._next_name("png"), data)
        self.status.value = download_link(path, data, "image/png")
        return path

    def sweep(self, name: str, frames: int = 17) -> Tensor:
        """``[2*frames-2,3,H,W]``: the current face moved along ``name`` from -limit to +limit
        and back (relative to where it is now), on the CPU."""
        faces = decode_faces(self.model, self.state.sweep(name, self.limit, frames)).float()
        return torch.cat([faces, faces.flip(0)[1:-1]])

    def save_gif(self) -> Path:
        """Write a strength sweep of the chosen direction as an animated GIF."""
        buffer = io.BytesIO()
        save_gif(self.sweep(self.gif_direction.value), buffer)
        path = save_file(self.save_dir, self._next_name("gif"), buffer.getvalue())
        self.status.value = download_link(path, buffer.getvalue(), "image/gif")
        return path


def adapt_preview_size(size: int, elapsed_ms: float, budget_ms: float, ceiling: int, floor: int = 16) -> int:
    """The next preview resolution after a move that took ``elapsed_ms`` at ``size`` pixels:
    half (not below ``floor``) when over ``budget_ms``, double (not above ``ceiling``) when
    under a quarter of it (a level costs about four times the one below), else the same."""
    if elapsed_ms > budget_ms and size // 2 >= floor:
        return size // 2
    if elapsed_ms < budget_ms / 4 and size * 2 <= ceiling:
        return size * 2
    return size


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
    codes = model.sample_latent(200, seed=seed)
    panel = EditPanel(model, [along(name, torch.randn(model.latent_dim, generator=generator), codes)
                              for name in ("a", "b")], seed=seed)
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
        self.z1, self.z2 = (z.detach().float().to(model_device(model)) for z in (z1, z2))
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
        return to_png_bytes(decode_faces(self.model, code[None])[0])

    def refresh(self) -> None:
        self.image.value = self._png(blend(self.z1, self.z2, self.slider.value, self.mode.value))
