"""SynthFaces ground truth: the factors of each face and the CelebA attributes they imply.

Every face is a row of ``FACTOR_NAMES`` (float32). Draws come from a counter-based hash
of (seed, index, draw number), so face ``i`` of seed ``s`` is the same whatever batch or
order it is generated in.

Correlations follow real photos: baldness and beards are (almost) only male, lipstick
mostly female, grey hair mostly old; broad smiles open the mouth more often. This is the
entanglement the write-up meets (a Bald direction that also turns faces male).
"""

from __future__ import annotations

import numpy as np

from .celeba_names import CELEBA_ATTRIBUTES

FACTOR_NAMES: tuple[str, ...] = (
    # expression
    "smile",           # -1 frown .. 0 neutral .. 1 broad smile
    "mouth_open",      # 0 closed .. 1 wide open
    "eye_open",        # 0 narrow .. 1 wide
    "brow_raise",      # -1 lowered .. 1 raised
    # pose
    "yaw",             # -1 .. 1, about -35 .. 35 degrees head turn (positive: to the image's right)
    "roll",            # -1 .. 1, about -15 .. 15 degrees head tilt
    # identity
    "male",            # 0 or 1
    "face_width",      # 0 narrow .. 1 wide
    "jaw",             # 0 pointed chin .. 1 square jaw
    "brow_thickness",  # 0 thin .. 1 bushy
    "skin_tone",       # 0 pale .. 1 dark
    "hair_colour",     # 0 black, 1 brown, 2 blond, 3 grey
    "hair_style",      # 0 bald, 1 short, 2 long
    "bangs",           # 0 or 1
    "glasses",         # 0 or 1
    "moustache",       # 0 or 1
    "goatee",          # 0 or 1
    "beard",           # 0 or 1
    "lipstick",        # 0 or 1
    "age",             # 0 young .. 1 old (grey hair, lines)
    "iris_hue",        # 0 brown .. 1 blue
    "shirt_hue",       # 0 .. 1 colour wheel
    # scene
    "bg_hue",          # 0 .. 1 colour wheel
    "bg_value",        # 0 dark .. 1 light
    "light",           # -1 lit from the left .. 1 lit from the right
)
FACTOR_INDEX: dict[str, int] = {name: i for i, name in enumerate(FACTOR_NAMES)}

# Factors outside [0, 1]: signed ones span [-1, 1], the categorical ones count styles.
SIGNED_FACTORS = ("smile", "brow_raise", "yaw", "roll", "light")
CATEGORY_COUNTS = {"hair_colour": 4, "hair_style": 3}
DISCRETE_FACTORS = ("male", "hair_colour", "hair_style", "bangs", "glasses", "moustache", "goatee", "beard",
                    "lipstick")

EXPRESSION_FACTORS = ("smile", "mouth_open", "eye_open", "brow_raise")
POSE_FACTORS = ("yaw", "roll")
IDENTITY_FACTORS = (
    "male", "face_width", "jaw", "brow_thickness", "skin_tone", "hair_colour", "hair_style",
    "bangs", "glasses", "moustache", "goatee", "beard", "lipstick", "age",
)

# Documented thresholds: attribute -> (factor or factors summed, comparison, threshold).
# Each gap in a bimodal draw below straddles its threshold, so labels are unambiguous
# at a glance, as in CelebA.
ATTRIBUTE_RULES: dict[str, tuple[str | tuple[str, ...], str, float]] = {
    "Smiling": ("smile", ">", 0.25),
    "High_Cheekbones": ("smile", ">", 0.6),
    "Mouth_Slightly_Open": ("mouth_open", ">", 0.35),
    "Narrow_Eyes": ("eye_open", "<", 0.3),
    "Bushy_Eyebrows": ("brow_thickness", ">", 0.75),
    "Eyeglasses": ("glasses", "==", 1),
    "Bangs": ("bangs", "==", 1),
    "Bald": ("hair_style", "==", 0),
    "Male": ("male", "==", 1),
    "Black_Hair": ("hair_colour", "==", 0),
    "Brown_Hair": ("hair_colour", "==", 1),
    "Blond_Hair": ("hair_colour", "==", 2),
    "Gray_Hair": ("hair_colour", "==", 3),
    "Pale_Skin": ("skin_tone", "<", 0.18),
    "Mustache": ("moustache", "==", 1),
    "Goatee": ("goatee", "==", 1),
    "No_Beard": (("beard", "goatee", "moustache"), "==", 0),
    "Wearing_Lipstick": ("lipstick", "==", 1),
    "Young": ("age", "<", 0.475),
}
_COMPARE = {">": np.greater, "<": np.less, "==": np.equal}
SYNTH_ATTRIBUTES: tuple[str, ...] = tuple(ATTRIBUTE_RULES)

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _uniforms(seed: int, indices: np.ndarray, count: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1): ``[N, count]`` float64, a pure function of
    (seed, index, column) via the splitmix64 finaliser."""
    idx = np.asarray(indices, dtype=np.uint64)[:, None]
    col = np.arange(count, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        x = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
             + idx * np.uint64(0xBF58476D1CE4E5B9)
             + col * np.uint64(0x94D049BB133111EB) + np.uint64(0x632BE59BD9B4E019)) & _MASK64
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _bimodal(u_pick: np.ndarray, u_val: np.ndarray, p_high: np.ndarray | float,
             low: tuple[float, float], high: tuple[float, float]) -> np.ndarray:
    """``high`` range with probability ``p_high``, else ``low`` range (uniform inside)."""
    lo = low[0] + (low[1] - low[0]) * u_val
    hi = high[0] + (high[1] - high[0]) * u_val
    return np.where(u_pick < p_high, hi, lo)


def sample_factors(seed: int, indices: np.ndarray) -> np.ndarray:
    """Factors of faces ``indices`` of dataset ``seed``.

    Args:
        seed: dataset seed.
        indices: ``[N]`` non-negative integers.
    Returns:
        ``[N, len(FACTOR_NAMES)]`` float32.
    """
    u = _uniforms(seed, np.asarray(indices), 40).T  # [40, N]
    n = u.shape[1]
    f = np.zeros((len(FACTOR_NAMES), n), dtype=np.float64)
    F = FACTOR_INDEX

    male = (u[0] < 0.45).astype(np.float64)
    old = u[1] < 0.25
    f[F["male"]] = male
    f[F["age"]] = np.where(old, 0.55 + 0.45 * u[2], 0.05 + 0.35 * u[2])

    f[F["smile"]] = _bimodal(u[3], u[4], 0.45, (-0.9, 0.1), (0.4, 1.0))
    smiling = f[F["smile"]] > 0.25
    f[F["mouth_open"]] = _bimodal(u[5], u[6], np.where(smiling, 0.55, 0.15), (0.0, 0.2), (0.5, 1.0))
    f[F["eye_open"]] = _bimodal(u[7], u[8], 0.8, (0.0, 0.2), (0.4, 1.0))
    f[F["brow_raise"]] = 2.0 * u[9] - 1.0

    f[F["yaw"]] = 2.0 * u[10] - 1.0
    f[F["roll"]] = np.clip((u[11] - 0.5) * 1.4, -1.0, 1.0)

    f[F["face_width"]] = u[12]
    f[F["jaw"]] = np.where(male > 0, 0.55 + 0.45 * u[13], 0.45 * u[13])
    f[F["brow_thickness"]] = np.where(male > 0, 0.4 + 0.6 * u[14], 0.5 * u[14])
    f[F["skin_tone"]] = _bimodal(u[15], u[16], 0.8, (0.0, 0.12), (0.25, 1.0))

    p_grey = np.where(old, 0.7, 0.02)
    colour = np.where(u[17] < 0.4, 0, np.where(u[17] < 0.72, 1, 2))
    colour = np.where((male == 0) & (u[18] < 0.2), 2, colour)  # blond a little more often female
    f[F["hair_colour"]] = np.where(u[19] < p_grey, 3, colour)

    p_bald = np.where(male > 0, np.where(old, 0.45, 0.05), 0.005)
    p_long = np.where(male > 0, 0.12, 0.75)
    style = np.where(u[20] < p_bald, 0, np.where(u[21] < p_long, 2, 1))
    f[F["hair_style"]] = style
    f[F["bangs"]] = ((style > 0) & (u[22] < np.where(male > 0, 0.15, 0.3))).astype(np.float64)
    f[F["glasses"]] = (u[23] < np.where(old, 0.25, 0.1)).astype(np.float64)

    beard = (male > 0) & (u[24] < 0.22)
    f[F["beard"]] = beard
    f[F["moustache"]] = (male > 0) & (u[25] < np.where(beard, 0.6, 0.15))
    f[F["goatee"]] = (male > 0) & ~beard & (u[26] < 0.15)
    f[F["lipstick"]] = u[27] < np.where(male > 0, 0.02, 0.65)

    f[F["iris_hue"]] = (u[28] < 0.3) * u[29]
    f[F["shirt_hue"]] = u[30]
    f[F["bg_hue"]] = u[31]
    f[F["bg_value"]] = 0.3 + 0.6 * u[32]
    f[F["light"]] = 2.0 * u[33] - 1.0
    return f.T.astype(np.float32)


def attributes_from_factors(factors: np.ndarray) -> np.ndarray:
    """CelebA attributes implied by factors, by the thresholds in ``ATTRIBUTE_RULES``.

    Args:
        factors: ``[N, len(FACTOR_NAMES)]``.
    Returns:
        ``[N, 40]`` bool in ``CELEBA_ATTRIBUTES`` order; names SynthFaces does not model
        are False (``-1`` in CelebA's file).
    """
    out = np.zeros((factors.shape[0], len(CELEBA_ATTRIBUTES)), dtype=bool)
    for name, (names, op, threshold) in ATTRIBUTE_RULES.items():
        names = (names,) if isinstance(names, str) else names
        value = sum(factors[:, FACTOR_INDEX[n]] for n in names)
        out[:, CELEBA_ATTRIBUTES.index(name)] = _COMPARE[op](value, threshold)
    return out


def valid_factors(factors: np.ndarray) -> np.ndarray:
    """The nearest renderable factors: each clipped to its range, discrete ones (sex,
    hair, accessories) rounded to a category, as an edited factor vector needs before
    ``render_faces`` (which indexes colours and styles by them).

    Args:
        factors: ``[N, len(FACTOR_NAMES)]``, any real values.
    Returns:
        ``[N, len(FACTOR_NAMES)]`` float32.
    """
    out = np.array(factors, dtype=np.float32, copy=True)
    for name, k in FACTOR_INDEX.items():
        low = -1.0 if name in SIGNED_FACTORS else 0.0
        high = CATEGORY_COUNTS.get(name, 2) - 1.0
        column = np.round(out[:, k]) if name in DISCRETE_FACTORS else out[:, k]
        out[:, k] = np.clip(column, low, high)
    return out
