"""The shared training loop: resume after a kill, the NaN guard, damaged checkpoints, DDP."""

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from common.data import SynthFaces
from common.data.celeba_names import CELEBA_ATTRIBUTES
from common.judge.classifier import AttributeClassifier, classifier_loss
from common.train import CHECKPOINT, CheckpointError, TrainConfig, TrainingDiverged, train

TINY = dict(steps=40, batch_size=16, lr=3e-3, log_every=5, checkpoint_every=10, progress=False)

# Trains a tiny classifier; sleeps at step PAUSE so the test can kill it there.
RUNNER = textwrap.dedent("""
    import sys, time, torch
    from common.data import SynthFaces
    from common.judge.classifier import AttributeClassifier, classifier_loss
    from common.train import TrainConfig, train
    out, pause = sys.argv[1], int(sys.argv[2])
    def on_log(step, history):
        if step == pause:
            print("paused", flush=True)
            time.sleep(600)
    torch.manual_seed(0)
    train(AttributeClassifier(width=4), classifier_loss, SynthFaces(n=128, size=32, seed=0),
          TrainConfig(out=out, **{TINY}), on_log=on_log)
""").replace("{TINY}", repr(TINY))


def _faces():
    return SynthFaces(n=128, size=32, seed=0)


def test_a_killed_run_resumes_exactly_where_it_stopped(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(RUNNER)
    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, str(script), str(killed), "25"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "paused"  # at step 25, after the step-20 checkpoint
    finally:
        process.kill()
        process.wait()
    assert torch.load(killed / CHECKPOINT, weights_only=True)["step"] == 20
    resumed_model = AttributeClassifier(width=4)
    history = train(resumed_model, classifier_loss, _faces(), TrainConfig(out=str(killed), **TINY))
    assert history.steps[0] == 5 and history.steps[-1] == 40  # the history spans the kill
    torch.manual_seed(0)
    straight = AttributeClassifier(width=4)
    train(straight, classifier_loss, _faces(), TrainConfig(out=str(tmp_path / "straight"), **TINY))
    for (name, a), b in zip(resumed_model.state_dict().items(), straight.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-5), name


def test_a_loss_that_stays_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    def exploding(model, batch, step):
        loss, figures = classifier_loss(model, batch, step)
        return (loss * float("nan") if step >= 13 else loss), figures

    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 15 \(3 steps in a row\).*last good checkpoint"):
        train(AttributeClassifier(width=4), exploding, _faces(), TrainConfig(out=str(tmp_path), **TINY))
    assert torch.load(tmp_path / CHECKPOINT, weights_only=True)["step"] == 10


def test_one_overflowed_step_is_skipped_not_called_divergence(tmp_path):
    """As the fp16 gradient scaler does: a single non-finite loss leaves the weights as they
    were for that step and training goes on; the logged means stay finite."""
    seen = {}

    def one_overflow(model, batch, step):
        loss, figures = classifier_loss(model, batch, step)
        if step == 13:
            seen["before"] = [p.detach().clone() for p in model.parameters()]
            return loss * float("inf"), figures
        if step == 14:
            seen["after"] = [p.detach().clone() for p in model.parameters()]
        return loss, figures

    history = train(AttributeClassifier(width=4), one_overflow, _faces(), TrainConfig(**TINY))
    assert history.steps[-1] == 40 and all(map(math.isfinite, history.values["loss"]))
    assert all(torch.equal(a, b) for a, b in zip(seen["before"], seen["after"]))


def _checkpoint_after_two_steps(folder):
    train(AttributeClassifier(width=4), classifier_loss, _faces(),
          TrainConfig(out=str(folder), **{**TINY, "steps": 2}))
    return folder / CHECKPOINT


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(p.read_bytes()[:200]), "cannot be read"),
    (lambda p: torch.save({"weights": torch.ones(1)}, p), "not a checkpoint of this training loop"),
    (None, "another model"),
], ids=["truncated", "foreign", "other-model"])
def test_damaged_checkpoints_are_explained_and_left_untouched(tmp_path, damage, message):
    path = _checkpoint_after_two_steps(tmp_path)
    if damage is not None:
        damage(path)
    before = path.read_bytes()
    model = AttributeClassifier(width=4 if damage else 8)
    with pytest.raises(CheckpointError, match=message):
        train(model, classifier_loss, _faces(), TrainConfig(out=str(tmp_path), **TINY))
    assert path.read_bytes() == before


def test_a_checkpoint_written_with_other_settings_is_refused_and_the_same_settings_resume(tmp_path):
    """``TrainConfig.made_by`` (a recipe's loss block, as an encoder's generator): a run into a
    folder whose checkpoint recorded other settings stops with the differing keys named and
    leaves the file as it was; with the same settings (however their lists were written) it
    resumes from the checkpoint's step."""
    settings = {**TINY, "steps": 2, "out": str(tmp_path)}
    train(AttributeClassifier(width=4), classifier_loss, _faces(), TrainConfig(made_by={"generator_sha256": "aa"}, **settings))
    path = tmp_path / CHECKPOINT
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=r"written by a run with other settings \(generator_sha256\)"):
        train(AttributeClassifier(width=4), classifier_loss, _faces(),
              TrainConfig(made_by={"generator_sha256": "bb"}, **{**settings, "steps": 4}))
    assert path.read_bytes() == before
    history = train(AttributeClassifier(width=4), classifier_loss, _faces(),
                    TrainConfig(made_by={"generator_sha256": "aa"}, **{**settings, "steps": 4}))
    assert history.steps[0] <= 2 < history.steps[-1] == 4 and len(history.steps) == 2
    listed = {**settings, "out": str(tmp_path / "listed")}      # the same settings, a tuple written, a list read
    train(AttributeClassifier(width=4), classifier_loss, _faces(), TrainConfig(made_by={"labels": ("Male",)}, **listed))
    again = train(AttributeClassifier(width=4), classifier_loss, _faces(),
                  TrainConfig(made_by={"labels": ["Male"]}, **{**listed, "steps": 4}))
    assert again.steps[-1] == 4


DDP_RUNNER = textwrap.dedent("""
    import json, os, sys, torch
    from common.data import SynthFaces
    from common.judge.classifier import AttributeClassifier, classifier_loss
    from common.train import TrainConfig, train
    model = AttributeClassifier(width=4)
    history = train(model, classifier_loss, SynthFaces(n=128, size=32, seed=0),
                    TrainConfig(steps=6, batch_size=16, lr=3e-3, log_every=3, progress=False, device="cpu"))
    rank = os.environ["RANK"]
    torch.save(model.state_dict(), os.path.join(sys.argv[1], f"rank{rank}.pt"))
    with open(os.path.join(sys.argv[1], f"loss{rank}.json"), "w") as f:
        json.dump(history.values["loss"], f)
""")


def test_ddp_with_gloo_on_two_cpu_processes_keeps_the_replicas_equal(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(DDP_RUNNER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                    str(script), str(tmp_path)], check=True, env=env, timeout=300, capture_output=True)
    first, second = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for name in first:
        if "running" not in name and "num_batches" not in name:  # BatchNorm statistics stay local
            assert torch.equal(first[name], second[name]), name
    initial = AttributeClassifier(width=4).state_dict()
    assert not torch.equal(first["head.weight"], initial["head.weight"])
    losses = [json.loads((tmp_path / f"loss{r}.json").read_text()) for r in (0, 1)]
    assert losses[0] == losses[1]  # the logged loss is the mean over both processes


def test_command_line_explains_missing_celeba_and_bad_kinds(tmp_path, capsys):
    from common.train.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main(["vae", "--data", "celeba", "--celeba-root", str(tmp_path / "celeba"), "--steps", "1"])
    assert stop.value.code == 2
    assert "CelebA folder not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["vae", "--kind", "beta", "--steps", "1"])
    assert "argument --kind: invalid choice: 'beta'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["pggan", "--image-size", "48", "--steps", "1"])
    assert "argument --image-size: pggan trains at 64 or 32 pixels, not 48" in capsys.readouterr().err


def test_mixed_precision_is_bf16_on_native_gpus_fp16_on_older_ones_and_off_on_the_cpu(monkeypatch):
    from common.train.loop import mixed_precision

    assert mixed_precision(torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert mixed_precision(torch.device("cuda")) == torch.float16          # a T4: bf16 only emulated
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert mixed_precision(torch.device("cuda")) == torch.bfloat16


def test_amp_off_means_fp32_even_on_a_gpu_and_the_command_line_says_so(monkeypatch):
    from common.train.__main__ import build_parser, recipe_from_arguments
    from common.train.loop import mixed_precision

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert mixed_precision(torch.device("cuda"), amp=False) is None
    args = build_parser().parse_args(["vae", "--steps", "3", "--amp", "off"])
    assert recipe_from_arguments(args).train.amp is False
    assert recipe_from_arguments(build_parser().parse_args(["vae", "--steps", "3"])).train.amp is True


def test_the_r1_penalty_is_the_same_under_a_gradient_scale_and_in_bf16():
    """PyTorch's AMP recipe for gradient penalties: the scaled gradient, unscaled, gives the
    penalty of fp32 (a scale of 2^16 changes nothing but rounding); under CPU bf16 autocast
    the penalty stays finite and near fp32's."""
    from common.train.progressive_gan import Discriminator, r1_penalty
    from common.train.loop import gradient_scaling

    torch.manual_seed(0)
    d = Discriminator((16, 16, 8))
    real = (torch.rand(8, 3, 16, 16) * 2 - 1).requires_grad_(True)

    def penalty(scale=1.0, bf16=False):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16), gradient_scaling(scale):
            return r1_penalty(d(real, 0.0), real).item()

    plain = penalty()
    assert plain > 0 and penalty(2.0 ** 16) == pytest.approx(plain, rel=1e-4)
    low = penalty(bf16=True)
    assert math.isfinite(low) and low == pytest.approx(plain, rel=0.1)


def test_the_r1_weight_goes_from_the_command_line_to_the_discriminator_loss_and_the_manifest():
    """``--r1-weight`` reaches the loss (the discriminator's loss grows by ``weight/2`` times
    the penalty), is recorded in the train block when it is not the default, and a recipe
    rebuilt from the manifest's blocks has it back."""
    from common.train.__main__ import build_parser, recipe_from_arguments
    from common.train.recipes import PGGANRecipe

    recipe = recipe_from_arguments(build_parser().parse_args(["pggan", "--steps", "4", "--r1-weight", "0.1",
                                                              "--image-size", "32"]))
    assert recipe.r1_weight == 0.1 and recipe.train_block()["r1_weight"] == 0.1
    assert "--r1-weight 0.1" in recipe.command()
    rebuilt = PGGANRecipe.from_blocks(recipe.model_block(), recipe.train_block(), steps=4)
    assert rebuilt.r1_weight == 0.1 and "r1_weight" not in PGGANRecipe.from_options(steps=4).train_block()
    torch.manual_seed(0)
    gan = rebuilt.build()
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    losses = {}
    for weight in (0.0, 0.1):
        gan.r1_weight = weight
        torch.manual_seed(1)
        losses[weight] = gan(real, step=0)[0].item()
    assert losses[0.1] > losses[0.0]


def test_latent_labels_go_from_the_command_line_to_the_thresholds_and_the_manifest():
    """``--latent-labels`` names the attributes z's first axes carry (``--label-loss`` how they
    are taught): both are recorded in the train block and the command and come back from the
    manifest's blocks; ``prepare`` sets each axis's threshold from the training faces' share
    of the attribute; an unknown name is refused with the list of the data's attributes."""
    from common.train.__main__ import build_parser, recipe_from_arguments
    from common.train.recipes import PGGANRecipe, RecipeError

    recipe = recipe_from_arguments(build_parser().parse_args(
        ["pggan", "--steps", "4", "--image-size", "32", "--latent-labels", "Smiling,Narrow_Eyes",
         "--label-loss", "classifier"]))
    assert recipe.latent_labels == ("Smiling", "Narrow_Eyes")
    assert recipe.train_block()["latent_labels"] == ["Smiling", "Narrow_Eyes"]
    assert recipe.train_block()["label_loss"] == "classifier"
    assert "--latent-labels Smiling,Narrow_Eyes --label-loss classifier" in recipe.command()
    rebuilt = PGGANRecipe.from_blocks(recipe.model_block(), recipe.train_block(), steps=4)
    assert (rebuilt.latent_labels, rebuilt.label_loss) == (recipe.latent_labels, "classifier")
    assert rebuilt.build().label_loss == "classifier"
    assert "latent_labels" not in PGGANRecipe.from_options(steps=4).train_block()
    faces = _faces()
    gan = rebuilt.build()
    rebuilt.prepare(gan, faces)
    shares = [float(faces.attributes[:, faces.attribute_names.index(name)].float().mean()) for name in recipe.latent_labels]
    z = torch.randn(50_000, gan.generator.latent_dim, generator=torch.Generator().manual_seed(0))
    assert gan.latent_labels_of(z).mean(0).tolist() == pytest.approx(shares, abs=0.01)
    with pytest.raises(RecipeError, match="--latent-labels Frowning: not an attribute of the data"):
        PGGANRecipe.from_options(steps=4, latent_labels=("Smiling", "Frowning"))


def test_a_teacher_goes_from_the_command_line_to_the_manifest_and_back():
    """``--teacher vae`` (with its weight and the steps of its fade, by default half the run)
    is recorded in the train block and the command and comes back from the manifest's
    blocks; a run without one records nothing of it; an unknown teacher or a size the VAE
    does not draw is refused."""
    from common.train.__main__ import build_parser, recipe_from_arguments
    from common.train.recipes import PGGANRecipe, RecipeError

    recipe = recipe_from_arguments(build_parser().parse_args(
        ["pggan", "--steps", "40", "--latent-labels", "Smiling", "--label-loss", "classifier", "--teacher", "vae",
         "--teacher-weight", "5"]))
    assert (recipe.teacher, recipe.teacher_weight, recipe.teacher_steps) == ("vae", 5.0, 20)
    assert {key: recipe.train_block()[key] for key in ("teacher", "teacher_weight", "teacher_steps")} == {
        "teacher": "vae", "teacher_weight": 5.0, "teacher_steps": 20}
    assert "--teacher vae --teacher-weight 5 --teacher-steps 20" in recipe.command()
    rebuilt = PGGANRecipe.from_blocks(recipe.model_block(), recipe.train_block(), steps=40)
    assert (rebuilt.teacher, rebuilt.teacher_weight, rebuilt.teacher_steps) == ("vae", 5.0, 20)
    plain = PGGANRecipe.from_options(steps=40)
    assert "teacher" not in plain.train_block() and "--teacher" not in plain.command()
    with pytest.raises(RecipeError, match="--teacher vae: the shipped VAE draws 64x64 faces, not 32x32"):
        PGGANRecipe.from_options(steps=4, image_size=32, teacher="vae")
    with pytest.raises(RecipeError, match="--teacher glow: choose among vae"):
        PGGANRecipe.from_options(steps=4, teacher="glow")


def test_kept_labels_go_from_the_command_line_to_the_manifest_and_back():
    """``--keep-labels`` (with ``--keep-weight``) is recorded in the train block and the
    command, comes back from the manifest's blocks and gives the discriminator a logit per
    kept attribute; a run without it records nothing of it; a kept label without labelled
    axes taught by the classifier, one that is also labelled, or an unknown name is refused."""
    from common.train.__main__ import build_parser, recipe_from_arguments
    from common.train.recipes import PGGANRecipe, RecipeError

    recipe = recipe_from_arguments(build_parser().parse_args(
        ["pggan", "--steps", "4", "--image-size", "32", "--latent-labels", "Smiling", "--label-loss", "classifier",
         "--keep-labels", "Male,Pale_Skin", "--keep-weight", "2"]))
    assert (recipe.keep_labels, recipe.keep_weight) == (("Male", "Pale_Skin"), 2.0)
    assert {key: recipe.train_block()[key] for key in ("keep_labels", "keep_weight")} == {
        "keep_labels": ["Male", "Pale_Skin"], "keep_weight": 2.0}
    assert "--keep-labels Male,Pale_Skin --keep-weight 2" in recipe.command()
    rebuilt = PGGANRecipe.from_blocks(recipe.model_block(), recipe.train_block(), steps=4)
    assert (rebuilt.keep_labels, rebuilt.keep_weight) == (recipe.keep_labels, recipe.keep_weight)
    gan = rebuilt.build()
    assert gan.kept_labels == (CELEBA_ATTRIBUTES.index("Male"), CELEBA_ATTRIBUTES.index("Pale_Skin"))
    assert gan.discriminator.label_vectors.shape[0] == 3
    plain = PGGANRecipe.from_options(steps=4, latent_labels=("Smiling",), label_loss="classifier")
    assert "keep_labels" not in plain.train_block() and "--keep-labels" not in plain.command()
    with pytest.raises(RecipeError, match="--keep-labels Male: needs --latent-labels with --label-loss classifier"):
        PGGANRecipe.from_options(steps=4, latent_labels=("Smiling",), keep_labels=("Male",))
    with pytest.raises(RecipeError, match="--keep-labels Smiling: already in --latent-labels"):
        PGGANRecipe.from_options(steps=4, latent_labels=("Smiling",), label_loss="classifier", keep_labels=("Smiling",))
    with pytest.raises(RecipeError, match="--keep-labels Pale: not an attribute of the data"):
        PGGANRecipe.from_options(steps=4, latent_labels=("Smiling",), label_loss="classifier", keep_labels=("Pale",))


def test_a_run_says_how_long_the_rest_will_take_after_timing_its_first_steps(tmp_path, capsys):
    from common.config import device_name
    from common.train.loop import FORECAST_STEPS, forecast

    settings = dict(TINY, progress=True, steps=20)
    train(AttributeClassifier(width=4), classifier_loss, _faces(), TrainConfig(out=str(tmp_path / "run"), **settings))
    printed = capsys.readouterr()
    lines = [line for line in (printed.out + printed.err).splitlines() if "more steps at" in line]
    assert len(lines) == 1
    remaining = 20 - 1 - FORECAST_STEPS
    assert lines[0].startswith(f"{remaining} more steps at ") and (" on CPU (" in lines[0] or " on GPU (" in lines[0])
    assert forecast(5, 10.0, 600, torch.device("cpu")) == ("600 more steps at 2.00 s a step (measured over 5) on "
                                                          f"{device_name(torch.device('cpu'))}: about 20 min")
