"""The 40 CelebA attribute names, in the exact order of ``list_attr_celeba.txt``."""

from __future__ import annotations

CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald",
    "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair",
    "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)


def attribute_index(name: str) -> int:
    """Column of a CelebA attribute; a clear error lists the valid names."""
    try:
        return CELEBA_ATTRIBUTES.index(name)
    except ValueError:
        raise KeyError(
            f"unknown attribute {name!r}; CelebA names are: {', '.join(CELEBA_ATTRIBUTES)}"
        ) from None
