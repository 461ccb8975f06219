"""Argument types shared by the command lines (``python -m common.train``, ``python -m
common.data``): each refuses a bad value with a message naming it and the allowed range."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def crop_size(text: str) -> int | None:
    """An argparse type for ``--crop``: pixels, or ``none`` for the largest centred square."""
    if text.lower() == "none":
        return None
    try:
        return whole_number(1)(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{error} (or 'none' for the largest centred square)") from None


def channel_widths(text: str) -> tuple[int, ...]:
    """An argparse type for ``--channels``: comma-separated widths, one per resolution
    level, such as ``32,64,128,256,512``."""
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be whole numbers separated by commas, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"every width must be at least 1, got {text!r}")
    return widths


def attribute_names(text: str) -> tuple[str, ...]:
    """An argparse type for ``--latent-labels``: comma-separated attribute names such as
    ``Smiling,Narrow_Eyes`` (the recipe checks them against the data's)."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"must name at least one attribute, got {text!r}")
    return names
