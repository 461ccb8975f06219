"""Live slider panels (core ipywidgets only, so they work in JupyterLab and on Colab).

``EditPanel``: one slider per direction over any ``LatentModel``; the face updates while
you drag. ``InterpolationPanel``: two faces and a blend slider (lerp or slerp).
Used by every method notebook.
"""

from __future__ import annotations

import html
import io
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
from .face_view import FaceView
from .images import load_face_image, save_gif, to_png_bytes
from .latent import blend
from .models.base import LatentModel
from .panel_files import SavedFiles, empty_upload, upload_failure, uploaded_files

SLIDER_STEP = 0.05


def _button(description: str, icon: str, action: Callable[[], object]) -> widgets.Button:
    button = widgets.Button(description=description, icon=icon)
    button.on_click(lambda _: action())
    return button


def _slider(label: str, limit: float, on_move: Callable[[float], None]) -> widgets.FloatSlider:
    slider = widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=SLIDER_STEP, description=label,
                                 continuous_update=True, readout_format="+.2f", style={"description_width": "165px"},
                                 layout=widgets.Layout(width="460px"))
    slider.observe(lambda change: on_move(change["new"]), names="value")
    return slider


def _checkbox(description: str, action: Callable[[bool], None]) -> widgets.Checkbox:
    box = widgets.Checkbox(value=False, description=description, indent=False)
    box.observe(lambda change: action(change["new"]), names="value")
    return box


@contextmanager
def _busy(status: widgets.HTML, controls: Sequence[widgets.Widget], what: str) -> Iterator[None]:
    """Says ``what`` is being done in ``status``, with ``controls`` off, until the block ends."""
    status.value = f"<i>{html.escape(what)}…</i>"
    for control in controls:
        control.disabled = True
    try:
        yield
    finally:
        for control in controls:
            control.disabled = False


def _layout(panel: EditPanel, own_vectors: bool) -> widgets.HBox:
    """The face on the left; sliders, buttons, status and scores on the right."""
    controls = widgets.VBox([
        *panel.sliders.values(),
        widgets.HBox([panel.reset_button, panel.new_face_button, panel.keep_others,
                      *([panel.own_vectors] if own_vectors else [])]),
        widgets.HBox([panel.upload, panel.save_png_button, panel.gif_direction, panel.save_gif_button]),
        panel.status, panel.scores,
    ])
    # flex-start: the image keeps its square size instead of stretching to the controls' height
    layout = widgets.HBox([panel.image, controls], layout=widgets.Layout(align_items="flex-start"))
    layout.add_class("fes-edit-panel")
    return layout


class EditPanel:
    """Edit one face along named directions with live sliders: the widgets that draw an
    ``EditState`` (what a slider position means is explained there) on a ``FaceView``. Codes
    stay on the model's device; only the displayed image comes back to the CPU.

    Args:
        model: any ``LatentModel``.
        directions: one ``common.direction.Direction`` per slider: a slider reads the
            face's position in the direction's gaps from its centre (strength 1 = one gap).
        faces: ``[K,3,H,W]`` faces that "new face" encodes in turn; default: latent samples.
        scorer: ``images [N,3,H,W] -> {name: probability}`` shown under the sliders.
        limit: slider half-range.
        save_dir: where PNG and GIF files are written.
        vectors_of: ``code [D] -> {name: [D]}``, each face's own vectors (``latent.Lookalikes``);
            given, a checkbox "each face's own vector" moves the face along them instead.
        view: ``FaceView``'s keywords (``display_size``, ``preview_size``, ``preview_budget_ms``, ``settle_ms``).
    """

    def __init__(self, model: LatentModel, directions: Sequence[Direction], *,
                 faces: Tensor | None = None, scorer=None, seed: int = 0, limit: float = 3.0,
                 save_dir: str | Path = "edits", vectors_of: Callable[[Tensor], dict[str, Tensor]] | None = None,
                 **view) -> None:
        if not directions:
            raise ValueError("EditPanel needs at least one direction")
        self.model, self.faces, self.scorer, self.limit = model, faces, scorer, limit
        self.device = model_device(model)
        self.state = EditState(directions, device=self.device, vectors_of=vectors_of)
        self.seed, self.files, self._holding = seed, SavedFiles(save_dir), False
        self.view = FaceView(model, **view)
        self.image = self.view.image
        self.sliders = {name: _slider(self.state.directions[name].label, limit,
                                      lambda position, name=name: self._on_slider(name, position))
                        for name in self.state.names}
        self.keep_others = _checkbox("keep other attributes", lambda on: self._redraw(self.state.set_keep_others, on))
        self.own_vectors = _checkbox("each face's own vector", lambda on: self._redraw(self.state.set_own_vectors, on))
        self.reset_button = _button("reset", "undo", self.reset)
        self.new_face_button = _button("new face", "refresh", self.new_face)
        self.save_png_button = _button("save PNG", "download", self.save_png)
        self.save_gif_button = _button("save sweep GIF", "film", self.save_gif)
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
        self.upload.observe(self._on_upload, names="value")
        self.gif_direction = widgets.Dropdown(options=self.state.names, layout=widgets.Layout(width="160px"))
        self.status, self.scores = widgets.HTML(), widgets.HTML()
        self.widget = _layout(self, own_vectors=vectors_of is not None)
        self.set_face(self._start_code())

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

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

    def refresh(self) -> None:
        """Decode the current code into the image at full quality (and the scores)."""
        if self._holding:
            return
        face = self.render(self.code())
        self.view.show(face)
        if self.scorer is not None:
            scores = self.scorer(face[None])
            self.scores.value = " · ".join(f"{n} <b>{p:.2f}</b>" for n, p in scores.items())

    def _on_slider(self, name: str, position: float) -> None:
        if not self._holding:
            self.state.move(name, position)
            if self.view.previews:
                self.view.preview(self.code(), settled=self.refresh)
            else:
                self.refresh()

    def _show_positions(self, positions: dict[str, float], widen: bool = False) -> None:
        """Sliders to ``positions`` (widening their range to fit when ``widen``), one redraw;
        meanwhile slider changes neither move the state nor redraw."""
        self._holding = True
        try:
            for name, slider in self.sliders.items():
                if widen:
                    slider.min = min(-self.limit, positions[name] - 0.5)
                    slider.max = max(self.limit, positions[name] + 0.5)
                slider.value = positions[name]
        finally:
            self._holding = False
        self.refresh()

    def reset(self) -> None:
        """Sliders back to where the face started."""
        self._show_positions(self.state.reset())
        self.status.value = ""

    def _working(self, what: str):
        """A block during which the status line says ``what`` is being done, the buttons off."""
        return _busy(self.status, (self.new_face_button, self.reset_button, self.upload, self.save_png_button,
                                   self.save_gif_button), what)

    def new_face(self) -> None:
        self.seed += 1
        with self._working("encoding the next face"):
            self.set_face(self._start_code())
        self.status.value = ""

    def _redraw(self, setting: Callable[[bool], None], on: bool) -> None:
        setting(on)
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
        except Exception as error:  # the panel must keep working whatever the file holds
            self.status.value = f'<span style="color:#b00">{html.escape(upload_failure(name, error))}</span>'
        finally:
            self.upload.value = empty_upload(self.upload.value)

    def save_png(self) -> Path:
        """Write the current face as PNG at the model's full resolution (a download link in the status)."""
        path, self.status.value = self.files.save(self.seed, "png", to_png_bytes(self.render(self.code())))
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
        path, self.status.value = self.files.save(self.seed, "gif", buffer.getvalue())
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
