"""Our own reader of the real CelebA files (torchvision's class md5-checks its text files,
so it cannot read a test copy; we use it only to download, on request).

Expected under ``root``::

    img_align_celeba/000001.jpg ...   aligned faces, 178x218 in the real set
    list_attr_celeba.txt             line 1: count, line 2: the 40 names, then
                                     "000001.jpg -1  1 ..." (40 values, each 1 or -1)
    list_eval_partition.txt          "000001.jpg 0" (0 train, 1 valid, 2 test)
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ..config import cache_dir
from ..images import from_uint8
from .celeba_names import CELEBA_ATTRIBUTES
from .pixel_cache import read_pixels, writing_pixels

ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
IMAGE_DIR = "img_align_celeba"
SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}

HOW_TO_GET = (
    "Get CelebA (aligned & cropped images) from "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive: 'Img/img_align_celeba.zip', "
    "'Anno/list_attr_celeba.txt', 'Eval/list_eval_partition.txt'), unzip the images and put "
    "all three under {root}: {root}/img_align_celeba/000001.jpg, {root}/list_attr_celeba.txt, "
    "{root}/list_eval_partition.txt. Or call common.data.download_celeba('{root}')."
)


class CelebAError(ValueError):
    """A CelebA file is missing or malformed; the message names the file and what to do."""


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise CelebAError(f"missing CelebA file {path}. " + HOW_TO_GET.format(root=path.parent))
    return path.read_text().splitlines()


def parse_attributes(path: Path) -> tuple[list[str], np.ndarray]:
    """Parse ``list_attr_celeba.txt``.

    Returns:
        file names ``[N]`` and attributes ``[N, 40]`` bool (True where the file says 1).
    """
    lines = _lines(path)
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise CelebAError(f"{path}, line 1: expected the number of images, got {lines[:1]!r}")
    header = lines[1].split()
    if tuple(header) != CELEBA_ATTRIBUTES:
        raise CelebAError(f"{path}, line 2: the header does not match CelebA's 40 attribute names in order: "
                          + header_difference(header))
    rows = [line.split() for line in lines[2:] if line.strip()]
    expected = int(lines[0])
    if len(rows) != expected:
        raise CelebAError(f"{path}, line 1 says {expected} images but {len(rows)} rows follow")
    names, values = [], np.empty((len(rows), len(CELEBA_ATTRIBUTES)), dtype=bool)
    for row_number, row in enumerate(rows):
        line_number = row_number + 3
        if len(row) != len(CELEBA_ATTRIBUTES) + 1:
            raise CelebAError(f"{path}, line {line_number}: expected a file name and 40 values, "
                              f"got {len(row)} columns")
        bad = [v for v in row[1:] if v not in ("1", "-1")]
        if bad:
            raise CelebAError(f"{path}, line {line_number}: values must be 1 or -1, got {bad[0]!r}")
        names.append(row[0])
        values[row_number] = [v == "1" for v in row[1:]]
    return names, values


def header_difference(header: list[str]) -> str:
    """Where a header differs from ``CELEBA_ATTRIBUTES``: the first differing name, or the count."""
    for position, (got, expected) in enumerate(zip(header, CELEBA_ATTRIBUTES), start=1):
        if got != expected:
            return f"name {position} is {got!r} where CelebA has {expected!r}"
    return f"it has {len(header)} names, CelebA has {len(CELEBA_ATTRIBUTES)}"


def parse_partition(path: Path) -> dict[str, int]:
    """Parse ``list_eval_partition.txt`` into {file name: 0 train | 1 valid | 2 test}."""
    out: dict[str, int] = {}
    for line_number, line in enumerate(_lines(path), start=1):
        row = line.split()
        if not row:
            continue
        if len(row) != 2 or row[1] not in ("0", "1", "2"):
            raise CelebAError(f"{path}, line {line_number}: expected 'name.jpg 0|1|2', got {line!r}")
        out[row[0]] = int(row[1])
    return out


CROP_HINT = ("for images that are already square face crops pass crop=None in Python, "
             "or --crop none to python -m common.train")


def decode_face(path: Path, size: int, crop: int | None) -> np.ndarray:
    """One CelebA file -> ``[size,size,3]`` uint8: the centre ``crop`` square (the largest
    one when None), resized with bicubic filtering.

    Raises:
        CelebAError: the image is smaller than the crop (the message says what to pass).
        OSError, PIL.UnidentifiedImageError: the file is not a readable image.
    """
    with Image.open(path) as picture:
        picture = picture.convert("RGB")
        width, height = picture.size
        side = min(width, height) if crop is None else crop
        if side > min(width, height):
            raise CelebAError(f"{path} is {width}x{height}, smaller than the {side}px crop; {CROP_HINT}")
        left, top = (width - side) // 2, (height - side) // 2
        picture = picture.crop((left, top, left + side, top + side))
        return np.asarray(picture.resize((size, size), Image.BICUBIC, reducing_gap=None))


def unreadable(error: PermissionError) -> CelebAError:
    """The error for a CelebA file or folder this user may not read."""
    return CelebAError(f"{error.filename} cannot be read by this user (permission denied); "
                       "make the CelebA folder and its files readable (chmod -R a+rX)")


class CelebA(Dataset):
    """CelebA aligned faces: centre crop ``crop`` pixels (148 is the usual crop of the
    178x218 aligned images; None takes the largest centred square), then resize to ``size``.

    The first use decodes every image of the split in parallel (a progress bar shows it),
    which also proves that each one opens, and caches the faces on disk (``FES_CACHE``,
    per folder, split, size and crop; uint8, memory-mapped), so later epochs and notebooks
    never decode a JPEG again. The interface is SynthFaces': ``len``, ``images``, ``batch``,
    ``attributes``, ``pixels``.

    Attributes:
        pixels: ``[N,size,size,3]`` uint8 (memory-mapped).
        attributes: ``[N, 40]`` bool, columns ``CELEBA_ATTRIBUTES``.
        files: the image file names of this split, in the attribute file's order.
    Items are ``(image [3,size,size] in [-1,1], attributes [40] float 0/1)``.
    """

    name = "CelebA"
    attribute_names = CELEBA_ATTRIBUTES

    def __init__(self, root: str | Path, split: str = "train", size: int = 64, crop: int | None = 148,
                 limit: int | None = None, cache: bool = True, progress: bool = True,
                 workers: int | None = None) -> None:
        self.root, self.split, self.size, self.crop = Path(root), split, size, crop
        if split not in (*SPLIT_CODES, "all"):
            raise ValueError(f"split must be one of {[*SPLIT_CODES, 'all']}, got {split!r}")
        if not 8 <= size <= 1024:
            raise ValueError(f"CelebA size must be 8..1024 pixels, got {size}")
        if crop is not None and crop < 1:
            raise ValueError(f"CelebA crop must be a positive number of pixels or None, got {crop}")
        if limit is not None and limit < 1:
            raise ValueError(f"CelebA limit must be at least 1 or None, got {limit}")
        image_dir = self.root / IMAGE_DIR
        for folder in (self.root, image_dir):
            if folder.exists() and not folder.is_dir():
                raise CelebAError(f"{folder} is a file, not a folder; the CelebA folder holds {IMAGE_DIR}/, "
                                  f"{ATTR_FILE} and {PARTITION_FILE}")
        if not image_dir.is_dir():
            raise CelebAError(f"CelebA folder not found: {image_dir}. " + HOW_TO_GET.format(root=self.root))
        try:
            names, attributes = parse_attributes(self.root / ATTR_FILE)
            partition = parse_partition(self.root / PARTITION_FILE)
        except PermissionError as error:
            raise unreadable(error) from None
        keep = [i for i, name in enumerate(names)
                if split == "all" or partition.get(name) == SPLIT_CODES[split]][:limit]
        if not keep:
            raise CelebAError(f"{self.root / PARTITION_FILE} puts no listed image in the {split!r} split")
        self.files = [names[i] for i in keep]
        self.attributes = torch.from_numpy(attributes[keep])
        shape = (len(self.files), size, size, 3)
        path = self.cache_path() if cache else None
        self.pixels = read_pixels(path, shape, mmap=True) if path is not None else None
        if self.pixels is None:
            self._check_present(keep, names)
            self.pixels = self._decode_all(path, shape, progress, workers)

    def _check_present(self, keep: list[int], names: list[str]) -> None:
        """Every kept image is in the folder (one listing of it, before decoding)."""
        image_dir = self.root / IMAGE_DIR
        try:
            present = set(p.name for p in image_dir.iterdir())
        except PermissionError as error:
            raise unreadable(error) from None
        for i in keep:
            if names[i] not in present:
                raise CelebAError(f"{self.root / ATTR_FILE}, line {i + 3} lists {names[i]}, "
                                  f"but {image_dir / names[i]} does not exist; re-extract img_align_celeba.zip")

    def cache_path(self) -> Path:
        """Where the decoded faces live: named by a hash of the folder, the split's file
        names, the size and crop, and the modification stamps of the image folder and the
        two lists (a file added, removed or renamed changes the folder's), so that a cached
        split opens without listing or stat-ing its images (slow on a mounted Drive)."""
        digest = hashlib.sha256(f"{self.root.resolve()}|{self.size}|{self.crop}".encode())
        for stamped in (self.root / IMAGE_DIR, self.root / ATTR_FILE, self.root / PARTITION_FILE):
            info = stamped.stat()
            digest.update(f"{stamped.name}:{info.st_size}:{info.st_mtime_ns};".encode())
        digest.update("\n".join(self.files).encode())
        return cache_dir() / "celeba" / f"{digest.hexdigest()[:16]}_{self.split}_{len(self.files)}_{self.size}px.npy"

    def _decode_all(self, path: Path | None, shape: tuple[int, ...], progress: bool,
                    workers: int | None) -> np.ndarray:
        """Decode every file in parallel threads into the cache (or memory when ``path`` is
        None). Unreadable files are collected and named together; nothing is cached then."""
        image_dir = self.root / IMAGE_DIR
        bad: list[str] = []

        def decode(name: str) -> np.ndarray | None:
            try:
                return decode_face(image_dir / name, self.size, self.crop)
            except CelebAError:
                raise
            except Exception as error:  # PIL raises many kinds for damaged files
                bad.append(f"{name} ({type(error).__name__}: {error})")
                return None

        def fill(pixels: np.ndarray) -> None:
            with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
                done = pool.map(decode, self.files, chunksize=64)       # in order
                for i, face in enumerate(tqdm(done, total=len(self.files), unit="img",
                                              desc=f"decoding CelebA {self.split} ({self.size}px)",
                                              disable=not (progress and len(self.files) >= 2000))):
                    if face is not None:
                        pixels[i] = face
            if bad:
                raise CelebAError(f"{len(bad)} image(s) in {image_dir} cannot be read: {'; '.join(sorted(bad)[:10])}"
                                  f"{' ...' if len(bad) > 10 else ''}. Re-extract img_align_celeba.zip, or remove "
                                  f"their lines from {ATTR_FILE} and {PARTITION_FILE}")

        if path is None:
            pixels = np.empty(shape, dtype=np.uint8)
            fill(pixels)
            return pixels
        with writing_pixels(path, shape) as pixels:
            fill(pixels)
        return np.load(path, mmap_mode="r")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return from_uint8(self.pixels[i]), self.attributes[i].float()

    def images(self, indices: np.ndarray | list[int] | range | slice) -> Tensor:
        """``[len(indices),3,size,size]`` in [-1,1]."""
        rows = indices if isinstance(indices, slice) else np.asarray(indices, dtype=np.int64)
        return from_uint8(self.pixels[rows])

    def batch(self, indices: np.ndarray) -> tuple[Tensor, Tensor]:
        """Training batch: images ``[B,3,H,W]`` and attributes ``[B,40]`` 0/1 (CelebA has
        no ground-truth factors)."""
        return self.images(indices), self.attributes[indices].float()

    def describe(self) -> str:
        """One line for a notebook's first output: name, folder, split, size."""
        return (f"CelebA from {self.root}: {self.split} split, {len(self)} faces, {self.size}x{self.size} px "
                f"({'centre ' + str(self.crop) + 'px crop' if self.crop else 'largest square'}, then resized)")


def download_celeba(root: str | Path) -> Path:
    """Download CelebA with torchvision (Google Drive through gdown) into ``root/celeba``
    and return that folder, the one to pass to ``CelebA``.

    Google Drive often refuses with a quota error; then the message gives the manual steps.
    """
    import torchvision

    root = Path(root)
    try:
        torchvision.datasets.CelebA(str(root), split="all", target_type="attr", download=True)
    except Exception as error:  # gdown and torchvision raise many kinds
        quota = "quota" in str(error).lower() or "too many users" in str(error).lower()
        reason = "Google Drive refused the download (daily quota exceeded)" if quota else (
            f"the download failed ({type(error).__name__}: {error})")
        raise CelebAError(f"{reason}. Download by hand instead. "
                          + HOW_TO_GET.format(root=root / "celeba")) from error
    return root / "celeba"
