"""Our own reader of the real CelebA files (torchvision's class md5-checks its text files,
so it cannot read a test copy; we use it only to download, on request).

Expected under ``root``::

    img_align_celeba/000001.jpg ...   aligned faces, 178x218 in the real set
    list_attr_celeba.txt             line 1: count, line 2: the 40 names, then
                                     "000001.jpg -1  1 ..." (40 values, each 1 or -1)
    list_eval_partition.txt          "000001.jpg 0" (0 train, 1 valid, 2 test)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from ..images import from_uint8
from .celeba_names import CELEBA_ATTRIBUTES

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
        raise CelebAError(
            f"{path}, line 2: the header does not match CelebA's 40 attribute names in order; "
            f"got {len(header)} names starting {header[:3]}, expected {list(CELEBA_ATTRIBUTES[:3])}...")
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


class CelebA(Dataset):
    """CelebA aligned faces: centre crop ``crop`` pixels (148 is the usual crop of the
    178x218 aligned images; None takes the largest centred square), then resize to ``size``.

    Attributes:
        attributes: ``[N, 40]`` bool, columns ``CELEBA_ATTRIBUTES``.
        files: the image file names of this split.
    Items are ``(image [3,size,size] in [-1,1], attributes [40] float 0/1)``.
    """

    attribute_names = CELEBA_ATTRIBUTES

    def __init__(self, root: str | Path, split: str = "train", size: int = 64,
                 crop: int | None = 148) -> None:
        self.root, self.size, self.crop = Path(root), size, crop
        if split not in (*SPLIT_CODES, "all"):
            raise ValueError(f"split must be one of {[*SPLIT_CODES, 'all']}, got {split!r}")
        image_dir = self.root / IMAGE_DIR
        if not image_dir.is_dir():
            raise CelebAError(f"CelebA folder not found: {image_dir}. " + HOW_TO_GET.format(root=self.root))
        names, attributes = parse_attributes(self.root / ATTR_FILE)
        partition = parse_partition(self.root / PARTITION_FILE)
        keep = [i for i, name in enumerate(names)
                if split == "all" or partition.get(name) == SPLIT_CODES[split]]
        present = set(p.name for p in image_dir.iterdir())
        for i in keep:
            if names[i] not in present:
                raise CelebAError(f"{self.root / ATTR_FILE}, line {i + 3} lists {names[i]}, "
                                  f"but {image_dir / names[i]} does not exist; re-extract img_align_celeba.zip")
        self.files = [names[i] for i in keep]
        self.attributes = torch.from_numpy(attributes[keep])

    def __len__(self) -> int:
        return len(self.files)

    def load(self, i: int) -> Tensor:
        """Image ``i`` as ``[3,size,size]`` in [-1,1]."""
        path = self.root / IMAGE_DIR / self.files[i]
        with Image.open(path) as picture:
            picture = picture.convert("RGB")
            width, height = picture.size
            side = min(width, height) if self.crop is None else self.crop
            if side > min(width, height):
                raise CelebAError(f"{path} is {width}x{height}, smaller than the {side}px crop; "
                                  "pass crop=None for images that are already square crops")
            left, top = (width - side) // 2, (height - side) // 2
            picture = picture.crop((left, top, left + side, top + side))
            picture = picture.resize((self.size, self.size), Image.BICUBIC, reducing_gap=None)
            return from_uint8(np.asarray(picture))

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return self.load(i), self.attributes[i].float()

    def images(self, indices: np.ndarray | list[int]) -> Tensor:
        """``[len(indices),3,size,size]`` in [-1,1]."""
        return torch.stack([self.load(int(i)) for i in indices])


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
