"""Which faces a recipe trains on and where it measures: ``DataSpec``."""

from __future__ import annotations

from dataclasses import dataclass

from ...data.celeba import CelebA, CelebAError
from ...data.source import celeba_crop, celeba_root
from ...data.synthfaces import SynthFaces
from ...judge.classifier import held_out_faces


class RecipeError(RuntimeError):
    """A user-facing problem (missing data, bad option); printed without a traceback."""


@dataclass(frozen=True)
class DataSpec:
    """The data of a recipe.

    ``name``: ``"synth"`` (``faces`` SynthFaces of the training split, drawn with ``seed``)
    or ``"celeba"`` (CelebA's training split in ``celeba_root``, all of it or its first
    ``celeba_limit`` faces, centre-cropped to ``crop`` pixels, ``None``: the largest square). Metrics are measured on the first faces
    of the test split of the same data (SynthFaces' test split does not depend on ``seed``)."""

    name: str = "synth"
    faces: int = 30_000
    seed: int = 0
    celeba_root: str | None = None
    crop: int | None = 148
    celeba_limit: int | None = None

    def __post_init__(self) -> None:
        if self.name not in ("synth", "celeba"):
            raise RecipeError(f"data must be 'synth' or 'celeba', got {self.name!r}")
        if self.name == "celeba" and not self.celeba_root:
            raise RecipeError("--data celeba needs --celeba-root FOLDER (holding img_align_celeba/ and the lists)")
        if self.faces < 1:
            raise RecipeError(f"faces must be at least 1, got {self.faces}")
        if self.celeba_limit is not None and self.celeba_limit < 1:
            raise RecipeError(f"--celeba-limit must be at least 1, got {self.celeba_limit}")

    @classmethod
    def current(cls, faces: int = 30_000, seed: int = 0, celeba_limit: int | None = None) -> DataSpec:
        """The data the switch points at: CelebA when ``CELEBA_ROOT`` is set (its first
        ``celeba_limit`` training faces; None: all), else SynthFaces."""
        root = celeba_root()
        if root is None:
            return cls(faces=faces, seed=seed)
        return cls(name="celeba", faces=faces, seed=seed, celeba_root=str(root), crop=celeba_crop(),
                   celeba_limit=celeba_limit)

    def _celeba(self, split: str, size: int, limit: int | None = None) -> CelebA:
        try:
            return CelebA(self.celeba_root, split=split, size=size, crop=self.crop, limit=limit)
        except CelebAError as error:
            raise RecipeError(str(error)) from None

    def training(self, size: int = 64) -> SynthFaces | CelebA:
        """The training faces at ``size`` x ``size`` pixels."""
        if self.name == "synth":
            return SynthFaces(n=self.faces, size=size, seed=self.seed, split="train")
        return self._celeba("train", size, limit=self.celeba_limit)

    def held_out(self, size: int = 64, n: int = 2000) -> SynthFaces | CelebA:
        """Where the metrics come from: the first ``n`` faces of the test split."""
        if self.name == "synth":
            return held_out_faces(n=n, size=size)
        return self._celeba("test", size, limit=n)

    def record(self, training: SynthFaces | CelebA, held_out: SynthFaces | CelebA) -> dict:
        """The manifest's ``data`` block: which data, how many training faces, where the
        metrics come from."""
        record = {"name": self.name, "faces": len(training), "held_out": held_out.describe()}
        if self.name == "synth":
            record["seed"] = self.seed
        else:
            record["crop"] = self.crop
            if self.celeba_limit is not None:
                record["celeba_limit"] = self.celeba_limit
        return record

    @classmethod
    def from_record(cls, block: dict, celeba_root: str | None = None) -> DataSpec:
        """Back from a manifest ``data`` block (CelebA's folder is not recorded: pass it)."""
        if block.get("name", "synth") == "synth":
            return cls(faces=block.get("faces", 30_000), seed=block.get("seed", 0))
        return cls(name="celeba", faces=block.get("faces", 30_000), celeba_root=celeba_root,
                   crop=block.get("crop", 148), celeba_limit=block.get("celeba_limit"))
