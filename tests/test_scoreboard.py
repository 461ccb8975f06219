"""The scoreboard's rules: gaps, component choice, and a judged real edit."""

import pytest
import torch

from common.data import CelebA, SynthFaces, attribute_index, export_celeba_layout
from common.models import PCAFaces
from common.judge.classifier import held_out_faces, load_classifier
from common.weights.shipped import load_vae
from common.direction import mean_difference
from common.judge.scoreboard import (CELEBA_EDITS, EDITS, EditScorer, best_component, edits_for, faces_to_edit, lookalike_direction,
                               reading_gaps, sample_groups, true_values)


@pytest.mark.parametrize("spec", EDITS[:2], ids=lambda s: s.name)
def test_best_component_picks_the_correlated_axis_and_points_toward_the_edit(spec):
    torch.manual_seed(0)
    codes = torch.randn(500, 8)
    values = 0.3 + 0.5 * codes[:, 5] + 0.05 * torch.randn(500)
    k, direction = best_component(torch.eye(8), codes, values, spec)
    assert k == 5
    assert (direction.vector[5] > 0) == spec.above and direction.gap > 0


def test_a_vae_smile_edit_succeeds_more_with_strength_and_keeps_identity():
    vae, classifier, faces = load_vae("vanilla"), load_classifier(), held_out_faces(n=800)
    judge = EditScorer(classifier, faces.images(slice(None)))
    smile = EDITS[0]
    with torch.no_grad():
        codes = vae.encode(faces.images(slice(None)))
    truth = torch.from_numpy(faces.factor("smile"))
    direction = mean_difference("smile", codes, smile.present(truth))
    # Faces that clearly frown: the VAE's blurred reconstruction reads a mild frown as neutral.
    start = codes[truth < -0.5][:48]
    weak, strong = judge.score(vae, start, direction, smile, 0.5), judge.score(vae, start, direction, smile, 2.0)
    assert weak["before"] == strong["before"] < 0.2
    assert strong["success"] > weak["success"] and strong["success"] > 0.8
    assert strong["target change"] > 0.2
    assert strong["identity change"] < 0.5 and strong["attribute leakage"] < 0.2
    # The decodes before the edit, read once and shared, give the same figures.
    assert judge.score(vae, start, direction, smile, 2.0, before=judge.decoded(vae, start)) == strong


def test_lookalike_edits_of_the_vae_succeed_more_than_the_attribute_vector():
    """Per-face vectors (each face's look-alikes) move each face's own eyes and mouth; judged
    the same way at strength 1, far more faces turn narrow-eyed than along the one global
    vector (which draws the narrowing where the average face's eyes are), and no fewer smile."""
    vae, classifier = load_vae("vanilla"), load_classifier()
    train, test = SynthFaces(n=3000, size=64, seed=5), held_out_faces(n=600)
    judge = EditScorer(classifier, test.images(slice(None)))
    with torch.no_grad():
        codes = vae.encode(train.images(slice(None)))
    success = {}
    for spec in EDITS[:2]:
        with torch.no_grad():
            start = vae.encode(test.images(faces_to_edit(test, spec, 64).numpy()))
        lookalike = lookalike_direction(codes, train, spec, start, k=300)
        assert lookalike.vector.shape == start.shape and lookalike.gap.shape == (len(start), 1)
        assert torch.allclose(lookalike.vector.norm(dim=1), torch.ones(len(start)), atol=1e-5)
        per_face = judge.score(vae, start, lookalike, spec)
        shared = judge.score(vae, start, mean_difference(spec.name, codes, spec.present(true_values(train, spec))), spec)
        assert per_face["before"] == shared["before"]
        success[spec.name] = per_face["success"], shared["success"]
    assert success["narrow eyes"][0] > success["narrow eyes"][1] + 0.3, success
    assert success["smile"][0] >= success["smile"][1], success


def test_on_labelled_data_edits_read_attributes_and_skip_pose(tmp_path):
    splits = {s: SynthFaces(n=n, size=64, split=s, cache=False) for s, n in (("train", 30), ("valid", 2), ("test", 2))}
    root = export_celeba_layout({s: (d.pixels, d.attributes.numpy()) for s, d in splits.items()}, tmp_path / "celeba")
    celeba = CelebA(root, split="train", size=64, crop=None)
    assert [s.name for s in edits_for(splits["train"])] == ["smile", "narrow eyes", "pose"]
    assert [s.name for s in edits_for(celeba)] == ["smile", "narrow eyes"]
    smile = edits_for(celeba)[0]
    labels = celeba.attributes[:, attribute_index("Smiling")]
    assert torch.equal(smile.present(true_values(celeba, smile)), labels)


def test_a_smile_edit_read_as_the_smiling_label_succeeds_without_factor_figures():
    vae, classifier, faces = load_vae("vanilla"), load_classifier(), held_out_faces(n=800)
    judge, smile = EditScorer(classifier, faces.images(slice(None))), CELEBA_EDITS[0]
    with torch.no_grad():
        codes = vae.encode(faces.images(slice(None)))
    labels = faces.attributes[:, attribute_index("Smiling")].float()
    direction = mean_difference("smile", codes, smile.present(labels))
    start = codes[~smile.present(labels)][:48]
    weak, strong = judge.score(vae, start, direction, smile, 0.5), judge.score(vae, start, direction, smile, 2.0)
    assert strong["success"] > weak["success"] and strong["success"] > 0.8
    assert strong["target change"] > 0.2
    assert "identity change" not in strong and "factor leakage" not in strong


def test_sample_groups_fall_back_to_halves_when_no_sample_crosses_the_threshold():
    smile = CELEBA_EDITS[0]
    never = torch.linspace(0.0, 0.4, 10)                  # no sample reads as smiling
    assert sample_groups(never, smile).tolist() == [False] * 5 + [True] * 5
    mixed = torch.tensor([0.1, 0.7, 0.2, 0.9])
    assert sample_groups(mixed, smile).tolist() == [False, True, False, True]


def test_reading_gaps_show_a_change_lost_in_reconstruction():
    """Faces keep the smile's gap; a 4-component PCA's reconstructions lose most of it."""
    train, test = SynthFaces(n=1500, size=64, seed=5), held_out_faces(n=600)
    judge = EditScorer(load_classifier(), test.images(slice(None)))
    smile, faces = EDITS[0], test.images(slice(None))
    face_reading = judge.read(faces)
    exact = reading_gaps(judge, test, face_reading, face_reading, smile)
    assert exact["faces' gap"] == exact["reconstructions' gap"] > 0.9       # the data's gap is about 1.1
    pca = PCAFaces.fit(train.images(slice(None)), 4)
    coarse = reading_gaps(judge, test, face_reading, judge.read(pca.decode(pca.encode(faces))), smile)
    assert coarse["faces' gap"] == exact["faces' gap"]
    assert coarse["reconstructions' gap"] < 0.5 * coarse["faces' gap"]


def test_codes_to_edit_are_those_without_the_edit_or_else_the_least_edited():
    from common.judge.scoreboard import EDITS, codes_to_edit

    smile, narrow = EDITS[0], EDITS[1]                 # smile reads above its threshold, narrow eyes below
    codes = torch.arange(6.0)[:, None]
    values = torch.tensor([0.9, 0.1, 0.8, 0.0, 0.7, 0.2])
    assert codes_to_edit(codes, values, smile, 2).flatten().tolist() == [1.0, 3.0]
    everyone = torch.tensor([0.9, 0.5, 0.8, 0.6, 0.7, 0.4])            # every face smiles already
    assert codes_to_edit(codes, everyone, smile, 2).flatten().tolist() == [5.0, 1.0]
    assert codes_to_edit(codes, torch.zeros(6), narrow, 3).shape == (3, 1)  # every face's eyes narrow
    assert codes_to_edit(codes, torch.tensor([0.1, 0.0, 0.2, 0.05, 0.25, 0.15]), narrow, 1).flatten().tolist() == [4.0]


def test_attribute_margins_are_positive_where_the_attribute_holds_and_do_not_saturate():
    """On SynthFaces, Smiling, Narrow_Eyes and Pose are the edits' factor readings past
    their thresholds (positive on the faces the scoreboard says hold the edit), another
    attribute is its logit (positive where its probability passes 0.5, and telling apart
    any faces the probabilities tell apart)."""
    from common.judge.scoreboard import attribute_margins

    classifier, faces = load_classifier(), held_out_faces(n=400)
    reading = classifier.read(faces.images(slice(None)))
    margins = attribute_margins(classifier, reading, ["Smiling", "Narrow_Eyes", "Pose", "Male"])
    judge = EditScorer(classifier, faces.images(slice(None)))
    for name, spec in zip(("Smiling", "Narrow_Eyes", "Pose"), EDITS):
        assert margins[name].shape == (400,)
        assert torch.equal(margins[name] > 0, spec.present(judge.value(reading, spec)))
    male = reading.probabilities[:, classifier.attribute("Male")]
    assert torch.equal(margins["Male"] > 0, male > 0.5)
    torch.testing.assert_close(torch.sigmoid(margins["Male"]), male)
    assert margins["Male"].unique().numel() >= male.unique().numel()


def test_identity_shifts_tell_a_carried_factor_from_a_face_redrawn_at_random():
    """Skin tone moved the same way on every face is a shift whose mean equals its size; face
    width moved up on half the faces and down on the other half has mean 0 and a size; the
    identity change is the mean of the sizes over the identity factors."""
    from common.judge.classifier import Reading
    from common.judge.scoreboard import IDENTITY_FACTORS

    classifier, faces = load_classifier(), held_out_faces(n=200)
    judge = EditScorer(classifier, faces.images(slice(None)))
    before = classifier.read(faces.images(slice(0, 8)))
    moved = before.factors.clone()
    skin, width = classifier.factor("skin_tone"), classifier.factor("face_width")
    moved[:, skin] -= 0.5 * judge.scale[skin]
    moved[:, width] += torch.tensor([1.0, -1.0] * 4) * judge.scale[width]
    after = Reading(before.probabilities, moved, before.features, before.logits)
    shifts = judge.identity_shifts(before, after)
    assert shifts["skin_tone"] == pytest.approx((-0.5, 0.5), abs=1e-5)
    assert shifts["face_width"] == pytest.approx((0.0, 1.0), abs=1e-5)
    assert shifts["jaw"] == (0.0, 0.0)
    assert judge.identity_change(before, after) == pytest.approx(1.5 / len(IDENTITY_FACTORS), abs=1e-5)


def test_a_held_reading_is_projected_out_of_the_svm_direction():
    """Codes whose smile reading mixes axes 0 and 1 and whose skin reading is axis 1: the
    plain normal leans on axis 1, so moving along it changes the skin; held, the normal keeps
    only what the skin's boundary does not, and moving along it leaves that reading alone."""
    from common.judge.scoreboard import svm_direction

    torch.manual_seed(0)
    codes = torch.randn(4000, 6)
    smile, skin = codes[:, 0] + codes[:, 1], codes[:, 1]
    plain = svm_direction(codes, smile, EDITS[0])
    held = svm_direction(codes, smile, EDITS[0], held=[skin])
    assert abs(float(plain.vector[1])) > 0.5
    assert abs(float(held.vector[1])) < 0.1 and float(held.vector[0]) > 0.9
    assert held.gap > 0


def test_identity_readings_are_the_identity_factors_or_none():
    from common.judge.scoreboard import IDENTITY_FACTORS, identity_readings

    classifier, faces = load_classifier(), held_out_faces(n=50)
    reading = classifier.read(faces.images(slice(None)))
    readings = identity_readings(classifier, reading)
    assert len(readings) == len(IDENTITY_FACTORS) and all(r.shape == (50,) for r in readings)
    assert torch.equal(readings[-1], reading.factors[:, classifier.factor(IDENTITY_FACTORS[-1])])

    class NoFactors:
        factors = ()
    assert identity_readings(NoFactors(), reading) == []
