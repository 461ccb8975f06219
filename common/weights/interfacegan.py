"""InterFaceGAN's published PGGAN files, fetched by one call (``fetch_interfacegan``): the
1024x1024 CelebA-HQ generator and its 15 boundaries (5 attributes, 10 conditional ones).

Each boundary has a registry entry like the generator's (URL, sha256, destination); the
hashes are those of the files in InterFaceGAN's repository (``boundaries/``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..models.pggan import PGGANConfig, PGGANGenerator
from .downloads import Download, fetch_all, load_foreign_pth
from .store import WEIGHTS_DIR, WeightsError, weights_dir

BOUNDARIES_URL = "https://github.com/genforce/interfacegan/tree/master/boundaries"


def load_interfacegan_boundaries(folder: str | Path, latent_dim: int = 512) -> dict[str, Tensor]:
    """InterFaceGAN's published PGGAN CelebA-HQ boundaries, ``{name: [latent_dim]}``, from
    a folder of its ``pggan_celebahq_<name>_boundary.npy`` files (``[1, 512]`` float64),
    for example ``smile``, ``pose``, ``age_c_gender``."""
    folder = Path(folder)
    files = sorted(folder.glob("pggan_celebahq_*_boundary.npy"))
    if not files:
        raise WeightsError(f"no pggan_celebahq_*_boundary.npy files in {folder}: download them from "
                           f"{BOUNDARIES_URL} into that folder")
    boundaries = {}
    for path in files:
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise WeightsError(f"{path} is not a readable .npy file ({error}); download it again") from error
        if array.size != latent_dim:
            raise WeightsError(f"{path} holds {array.size} numbers (shape {array.shape}); a boundary of this "
                               f"generator has {latent_dim}")
        name = path.name[len("pggan_celebahq_"):-len("_boundary.npy")]
        boundaries[name] = torch.from_numpy(array.reshape(-1)).float()
    return boundaries


CELEBAHQ_URL = "https://www.dropbox.com/s/t74z87pk3cf8ny7/pggan_celebahq.pth?dl=1"


def celebahq_path(folder: Path | None = None) -> Path:
    """Where InterFaceGAN's generator file lives: ``folder`` (default the weights folder,
    ``FES_WEIGHTS_DIR`` when set) ``/pggan_celebahq.pth``, as an absolute path."""
    return (Path(folder) if folder is not None else weights_dir()).resolve() / "pggan_celebahq.pth"


def load_interfacegan_pggan(path: str | Path | None = None) -> PGGANGenerator:
    """InterFaceGAN's PGGAN CelebA-HQ generator (1024x1024, latent 512) from its published
    ``pggan_celebahq.pth`` (default ``celebahq_path()``), loaded safely (``weights_only``)
    and strictly, in eval mode."""
    path = Path(path).resolve() if path is not None else celebahq_path()
    if not path.exists():
        raise WeightsError(f"{path} not found: it is InterFaceGAN's PGGAN CelebA-HQ generator (about 90 MB). "
                           f"Fetch it with common.weights.interfacegan.fetch_interfacegan(), or "
                           f"download {CELEBAHQ_URL} by hand and save it as {path}.")
    state = load_foreign_pth(path)
    generator = PGGANGenerator(PGGANConfig())
    try:
        generator.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise WeightsError(f"{path} is not InterFaceGAN's pggan_celebahq.pth (its tensors do not match the "
                           f"1024x1024 PGGAN layout): {str(error)[:300]}") from error
    return generator.eval()


def _check_celebahq(path: Path) -> None:
    try:
        load_interfacegan_pggan(path)
    except WeightsError as error:
        raise ValueError(str(error)) from error


# Its sha256 could not be recorded here (no network while building); a strict load of the
# exact 1024 layout stands in for the hash check.
PGGAN_CELEBAHQ = Download(
    name="pggan_celebahq.pth", urls=(CELEBAHQ_URL,), sha256=None,
    destination=WEIGHTS_DIR / "pggan_celebahq.pth",
    manual=f"{CELEBAHQ_URL} (the link InterFaceGAN's README and Colab use)",
    validate=_check_celebahq)


RAW_BOUNDARIES = "https://raw.githubusercontent.com/genforce/interfacegan/master/boundaries"
BOUNDARY_FOLDER = "interfacegan_boundaries"   # inside the weights folder
BOUNDARY_SHA256 = {
    "age": "21f0c9e8d770d5dbcf8a595a0a3393ef06493f1ea10a7e94bdd9d377b4b25808",
    "age_c_eyeglasses": "b302977794404669617e94801a8b42cd202279b871f8afb8f9cd0565bbbd476d",
    "age_c_gender": "99deeeef7c80dad287767f95cc228b2d225b3985e63f5ac42f4d38b182c47995",
    "age_c_gender_eyeglasses": "b9d3c3c30f22f45c9a2be50c187c1ffc26e22cc9c6a5cbc25bf6d79661029aa4",
    "eyeglasses": "610887e564b02f3bdb40ceeb74ecf35d996f10fa4726b813ce3222a7ec0d0cb2",
    "eyeglasses_c_age": "be3ded3af1aa222a9f2629b88bbf63ca61b7e2f632200b814bed42f372762afa",
    "eyeglasses_c_age_gender": "22285e42c3d21dcfbcb228e0c13fb7113ffe58caf43e4238a0805d1cce66250d",
    "eyeglasses_c_gender": "36a3d5cc5be0318a7093e6a917aac7a7111fa6c8db45b44f0a4b58265f9e04ff",
    "gender": "52d8d086930c2b75a0ecfd526fcb373781398d78ec76dd89216074d7769833f1",
    "gender_c_age": "bfd76a86f0db88fb640525db9f4c60894cff506d9627175fb6bf300666de040f",
    "gender_c_age_eyeglasses": "83acb608b370390615fc0dd9dc325cbc49f1ada1f0e8f8252d3e043cfbc13cb7",
    "gender_c_eyeglasses": "ada9cf353ac6195c350a311557bfe20187d467c636007a910539811d49cfd701",
    "pose": "4f2ad3c43ecc4dcd58362e7a8e340c39992c9c8a66bfae5ca381f050f9a519a8",
    "quality": "2d7299e94d20e6e29025c9a2a633441054988f4674cfa2dad80b794bad26333d",
    "smile": "a8005cd24aa46d2810065358480cae4611bf8b8838ac453ec148a58a0162c3a8",
}


def boundary_download(name: str, folder: Path) -> Download:
    """The registry entry of boundary ``name`` (``smile``, ``age_c_gender`` ...), kept in
    ``folder/interfacegan_boundaries/``."""
    file = f"pggan_celebahq_{name}_boundary.npy"
    return Download(name=file, urls=(f"{RAW_BOUNDARIES}/{file}",), sha256=BOUNDARY_SHA256[name],
                    destination=folder / BOUNDARY_FOLDER / file, manual=f"{BOUNDARIES_URL} ({file})")


def interfacegan_paths(folder: Path | None = None) -> tuple[Path, Path]:
    """(the generator file, the boundaries' folder) in ``folder`` (default the weights
    folder, ``FES_WEIGHTS_DIR`` when set), absolute: where ``fetch_interfacegan`` puts them
    and the loaders and notebook 03 look for them."""
    generator = celebahq_path(folder)
    return generator, generator.parent / BOUNDARY_FOLDER


def interfacegan_downloads(folder: Path | None = None) -> tuple[Download, ...]:
    """The generator and every boundary, with destinations in ``folder`` (default the
    weights folder)."""
    generator_path, boundaries = interfacegan_paths(folder)
    generator = replace(PGGAN_CELEBAHQ, destination=generator_path)
    return (generator, *(boundary_download(name, boundaries.parent) for name in BOUNDARY_SHA256))


def fetch_interfacegan(folder: Path | None = None,
                       getter: Callable[[str, Path], None] | None = None) -> tuple[Path, Path]:
    """Download what is missing of InterFaceGAN's generator (about 90 MB) and boundaries
    into ``folder`` (default the weights folder), each checked before it is put in place.
    Returns (the generator's path, the boundaries' folder) for ``load_interfacegan_pggan``
    and ``load_interfacegan_boundaries``.

    Raises:
        DownloadError: a file could not be fetched (named, with how to get it by hand)."""
    generator, *boundaries = fetch_all(interfacegan_downloads(folder), getter)
    return generator, boundaries[0].parent
