"""The shipped Glows (32x32, the quick ones, and 64x64, each unconditional and
class-conditional) reproduce their recorded held-out bits/dim and stay invertible; the
conditional one's edits make faces smile."""

import pytest
import torch

from common.data import SynthFaces
from common.judge.classifier import held_out_faces
from common.weights.shipped import load_glow
from common.train.recipes import held_out_bits_per_dim
from common.weights import read_manifest


@pytest.fixture(scope="module", params=[(32, False), (32, True), (64, False), (64, True)],
                ids=["32px", "conditional-32px", "64px", "conditional-64px"])
def glow(request):
    size, conditional = request.param
    return load_glow(size, conditional=conditional)


def test_shipped_glow_reaches_its_manifest_bits_per_dim(glow):
    size = glow.image_size
    name = f"glow_cond_{size}.safetensors" if glow.conditional is not None else f"glow_{size}.safetensors"
    recorded = read_manifest()[name]["metrics"]["bits_per_dim"]
    held_out = held_out_faces(n=1000, size=size)
    assert held_out_bits_per_dim(glow, held_out) == pytest.approx(recorded, abs=0.02)


def test_shipped_glow_encodes_exactly_and_samples_in_range(glow):
    size = glow.image_size
    faces = SynthFaces(n=8, size=size, seed=0, split="test").images(slice(None))
    with torch.no_grad():
        codes = glow.encode(faces)
        assert (glow.decode(codes) - faces).abs().max() < 1e-3   # float32, 24 or 32 flow steps
        samples = glow.decode(glow.sample_latent(8, seed=0, temperature=0.7))
    assert samples.shape == (8, 3, size, size)
    assert samples.abs().max() < 1.5 and samples.std() > 0.1


PANEL_SLIDERS = ("Smiling", "Narrow_Eyes", "Mouth_Slightly_Open", "Eyeglasses", "Bangs", "Male")   # notebook 04
PANEL_LIMIT = 1.5   # notebook 04: EditPanel(model, ..., limit=1.5)


def test_every_slider_of_the_panel_decodes_held_out_faces_to_finite_pixels_in_range(glow):
    """Notebook 04's panels (each Glow's whole-set vectors; the conditional one's prior shifts
    too), each slider at both ends of its range (a position of -1.5 and +1.5 from the
    attribute's boundary, beyond the training faces' own +-1.2), for 16 held-out faces,
    directions from 1,000 training faces: Glow's reverse pass (no NaN mask, no clamp) stays
    finite and within the pixel range."""
    from common.arithmetic import encode_faces
    from common.data import attribute_index
    from common.edit_state import EditState
    from common.direction import from_step, mean_difference

    size = glow.image_size
    faces = SynthFaces(n=1000, size=size, seed=0)
    codes = encode_faces(glow, faces.images(slice(None)))
    starts = encode_faces(glow, SynthFaces(n=16, size=size, seed=0, split="test").images(slice(None)))
    for name in PANEL_SLIDERS:
        labels = faces.attributes[:, attribute_index(name)]
        directions = [mean_difference(name, codes, labels)]
        if glow.conditional is not None:
            directions.append(from_step(name, glow.group_prior_shift(name, faces.attributes), codes, labels))
        for direction in directions:
            state = EditState([direction])
            edited = []
            for start in starts:
                state.set_base(start)
                for position in (-PANEL_LIMIT, PANEL_LIMIT):
                    state.move(name, position)
                    edited.append(state.code())
            with torch.no_grad():
                pixels = glow.reverse(torch.stack(edited)) * 2.0          # decode() without its clamp
            assert torch.isfinite(pixels).all(), f"{name}: the reverse pass overflowed"
            outside = (pixels.abs() > 1.1).float().mean()
            # decode() clamps what leaves [-1, 1]; a slider's far end may saturate a few pixels, never
            # the face (the 11,000-step 64x64 Glow at +-2: Male 1.05% of them, Eyeglasses 0.5% reaching 4.3;
            # the conditional Glow's Male prior shift at +-2: 2.2%, none past 1.8)
            assert pixels.abs().max() < 5 and outside < 0.03, \
                f"{name}: {outside:.1%} of the pixels leave the range (largest {pixels.abs().max():.2f})"


def _smiling_shares(glow, move) -> tuple[float, float]:
    """48 held-out faces that do not smile, encoded by ``glow``: the shares the attribute
    classifier reads as smiling (the scoreboard's rule, smile > 0.25) before and after their
    codes are moved by ``move(codes)``."""
    from common.arithmetic import decode_faces, encode_faces
    from common.data import attribute_index
    from common.judge.classifier import load_classifier

    test = held_out_faces(n=300, size=64)
    frowns = test.images(torch.nonzero(~test.attributes[:, attribute_index("Smiling")].bool())[:48, 0])
    codes = encode_faces(glow, frowns)
    classifier = load_classifier(64)
    smile = classifier.factor("smile")
    before = classifier.read(decode_faces(glow, codes)).factors[:, smile]
    after = classifier.read(decode_faces(glow, move(codes))).factors[:, smile]
    return float((before > 0.25).float().mean()), float((after > 0.25).float().mean())


def test_the_conditional_glows_prior_shift_makes_held_out_faces_smile():
    """Notebook 04's paper edit: two strengths of the prior shift between the training groups'
    mean attributes turn most held-out faces that do not smile into smiling ones, and the
    model's head reads the attributes back from the top latent."""
    from common.arithmetic import encode_faces
    from common.data import attribute_index

    glow = load_glow(64, conditional=True)
    shift = glow.group_prior_shift("Smiling", SynthFaces(n=2000, size=64, seed=0).attributes)
    before, after = _smiling_shares(glow, lambda codes: codes + 2.0 * shift)
    # measured on the shipped file: none before, 83% after (the unconditional Glow's vector: 23%)
    assert before < 0.1 and after > 0.75
    test = held_out_faces(n=300, size=64)
    head = glow.attribute_logits(encode_faces(glow, test.images(slice(None)))) > 0
    assert (head[:, 0] == test.attributes[:, attribute_index("Smiling")].bool()).float().mean() > 0.9


def test_the_conditional_glows_whole_set_vector_makes_held_out_faces_smile():
    """Notebook 04's panel default and notebook 05's Glow row: two gaps along the conditional
    Glow's whole-set Smiling vector turn nearly every held-out face that does not smile."""
    from common.arithmetic import encode_faces
    from common.data import attribute_index
    from common.direction import mean_difference

    glow = load_glow(64, conditional=True)
    train = SynthFaces(n=2000, size=64, seed=0)
    vector = mean_difference("Smiling", encode_faces(glow, train.images(slice(None))),
                             train.attributes[:, attribute_index("Smiling")])
    before, after = _smiling_shares(glow, lambda codes: vector.moved(codes, 2.0))
    # benchmarks/glow_conditional.py on 100 faces, vectors from 3,000: 98% at strength 2 (unconditional Glow: 23%)
    assert before < 0.1 and after > 0.9
