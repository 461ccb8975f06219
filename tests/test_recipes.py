"""Typed recipes: the shipped weights' recipes read back exactly, the command line and a
notebook build the same recipe, and a run records what it ran."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from common.train.recipes import ClassifierRecipe, DataSpec, GlowRecipe, PGGANRecipe, RecipeError, VAERecipe, shipped_recipe
from common.train.__main__ import build_parser, recipe_from_arguments
from common.train.__main__ import main as train_main
from common.train import History, read_history
from common.weights import Record, history_path, load_weights, read_manifest, save_weights

SHIPPED = sorted(name for name, entry in read_manifest().items() if "train" in entry)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_file_reads_back_as_the_recipe_that_made_it(name):
    entry = read_manifest()[name]
    recipe = shipped_recipe(name)
    assert recipe.weights_name() == name
    assert recipe.model_block() == entry["model"]
    recorded = recipe.train_block()
    assert {key: recorded[key] for key in entry["train"]} == entry["train"]
    model = recipe.shipped_module(recipe.build())
    load_weights(model, name)          # strict: the model block rebuilds the architecture exactly


@pytest.mark.parametrize("name", SHIPPED)
def test_a_recipe_s_command_builds_the_same_recipe(name):
    recipe = shipped_recipe(name)
    words = recipe.command().split()
    assert words[:3] == ["python", "-m", "common.train"]
    again = recipe_from_arguments(build_parser().parse_args(words[3:]))
    assert dataclasses.replace(again, train=dataclasses.replace(again.train, out=None)) == recipe


def test_recipes_are_frozen_and_quick_makes_a_shorter_copy():
    recipe = GlowRecipe.from_options(image_size=32, steps=4000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.train = None
    quick = recipe.quick()
    assert quick.train.steps < recipe.train.steps and quick.data.faces < recipe.data.faces
    assert quick.train.warmup_steps <= quick.train.steps // 5
    assert recipe.train.steps == 4000 and quick.glow == recipe.glow


def test_burgess_capacity_schedule_ends_with_the_quick_run():
    recipe = VAERecipe.from_options(kind="beta_b", steps=3000)
    assert recipe.vae.c_stop_step == 3000
    assert recipe.quick().vae.c_stop_step == recipe.quick().train.steps
    demonstration = recipe.quick(steps=200)          # notebook 01's live run
    assert demonstration.train.steps == demonstration.vae.c_stop_step == 200
    assert recipe.quick(steps=10_000).train.steps == 3000   # never longer than the recipe


def test_a_run_ships_weights_whose_manifest_gives_back_its_recipe(tmp_path):
    recipe = VAERecipe.from_options(kind="beta_h", steps=3, batch_size=8, data=DataSpec(faces=32))
    recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, progress=False))
    trained = recipe.run(save=True, weights_dir=tmp_path)
    entry = read_manifest(tmp_path)["vae_beta_h.safetensors"]
    assert entry["command"] == recipe.command()
    assert entry["metrics"] == pytest.approx(trained.metrics) and trained.metrics["pixel_mse"] > 0
    read_back = shipped_recipe("vae_beta_h.safetensors", folder=tmp_path)
    assert read_back == dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, progress=True))
    assert len(trained.history.steps) > 0 and not trained.model.training
    assert torch.isfinite(next(trained.model.parameters())).all()


def test_every_run_ships_its_training_curves_and_how_much_they_still_fell(tmp_path, monkeypatch):
    monkeypatch.setattr(ClassifierRecipe, "evaluate", lambda *args: {"acc/Smiling": 0.5})   # the curves, not the figures
    recipe = ClassifierRecipe.from_options(steps=20, batch_size=8, data=DataSpec(faces=64))
    recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, progress=False, log_every=1))
    trained = recipe.run(save=True, weights_dir=tmp_path)
    history = read_history(history_path("classifier.safetensors", tmp_path))
    assert history.steps == trained.history.steps and history.values == trained.history.values
    fall = read_manifest(tmp_path)["classifier.safetensors"]["metrics"]["loss_late_fall"]
    assert fall == pytest.approx(history.late_fall("loss", 0.2))


def test_late_fall_is_near_zero_on_a_plateau_and_large_while_the_loss_still_falls():
    steps = list(range(10, 1001, 10))
    falling, flat = History(), History()
    for step in steps:
        falling.add(step, {"loss": 1000.0 / step})
        flat.add(step, {"loss": 1.0 + 0.01 * (-1) ** (step // 10)})
    earlier, last = (sum(1000.0 / s for s in window) / 20 for window in (steps[60:80], steps[80:]))
    assert falling.late_fall("loss", 0.2) == pytest.approx((earlier - last) / earlier)
    assert falling.late_fall("loss", 0.2) > 0.1
    assert abs(flat.late_fall("loss", 0.2)) < 0.001
    assert math.isnan(History([5], {"loss": [1.0]}).late_fall("loss", 0.2))


def test_a_metric_that_starts_or_stops_stays_aligned_with_the_logged_steps(tmp_path):
    """A metric measured only on some steps (a teacher's anchor that stops, a term that starts
    late): the logger averages it over the steps that measured it, the history holds NaN at
    the logs where it was absent, so every series stays as long as ``steps``, and it comes
    back so from its file; its late fall ignores the gaps."""
    from types import SimpleNamespace
    from common.train.loop import Logger, save_history

    history = History()
    logger = Logger(history, SimpleNamespace(log_every=2, steps=8), bar=SimpleNamespace(update=lambda n: None,
                    set_postfix=lambda **kw: None), on_log=None)
    for step in range(1, 9):
        metrics = {"loss": float(step)} | ({"anchor": 10.0 * step} if step <= 3 else {}) | (
            {"late": -1.0} if step >= 6 else {})
        logger.add(step, metrics)
    assert history.steps == [2, 4, 6, 8]
    assert history.values["loss"] == [1.5, 3.5, 5.5, 7.5]
    assert history.values["anchor"][:2] == [15.0, 30.0] and all(math.isnan(v) for v in history.values["anchor"][2:])
    assert all(math.isnan(v) for v in history.values["late"][:2]) and history.values["late"][2:] == [-1.0, -1.0]
    save_history(history, tmp_path / "history.json")
    again = read_history(tmp_path / "history.json")
    assert again.steps == history.steps and len(again.values["anchor"]) == len(again.steps)
    assert history.late_fall("late", 0.25) == 0.0



def test_remeasuring_records_what_another_classifier_reads_and_keeps_the_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(PGGANRecipe, "held_out_faces", 128)       # as many samples: a quick measurement
    data = DataSpec(faces=64)

    def ship_untrained_classifier(seed: int) -> None:
        torch.manual_seed(seed)
        recipe = ClassifierRecipe.from_options(data=data)
        save_weights(recipe.build(), recipe.weights_name(), Record("untrained", {}, model=recipe.model_block()),
                     folder=tmp_path)

    ship_untrained_classifier(seed=0)
    gan = PGGANRecipe.from_options(steps=2, batch_size=4, data=data)
    gan = dataclasses.replace(gan, train=dataclasses.replace(gan.train, progress=False))
    gan.run(save=True, weights_dir=tmp_path)
    before = read_manifest(tmp_path)["pggan_synth64.safetensors"]
    ship_untrained_classifier(seed=1)
    metrics = gan.remeasure(tmp_path)
    after = read_manifest(tmp_path)["pggan_synth64.safetensors"]
    assert after["sha256"] == before["sha256"] and after["command"] == before["command"]
    assert after["metrics"] == metrics and set(metrics) == set(before["metrics"])
    assert metrics["frechet"] != pytest.approx(before["metrics"]["frechet"])       # another classifier reads them
    assert metrics["frechet_at_start"] != pytest.approx(before["metrics"]["frechet_at_start"])


@pytest.mark.parametrize("model, extra, recorded", [
    ("vae", "--upsample nearest", "--channels 32,64,128,256,512 --upsample nearest"),
    ("dfc", "--features classifier", "--features classifier --channels 32,64,128,256,512")])
def test_a_wider_model_s_command_builds_the_same_recipe(model, extra, recorded):
    words = f"{model} --channels 32,64,128,256,512 {extra} --steps 7000".split()
    recipe = recipe_from_arguments(build_parser().parse_args(words))
    assert recipe.vae.channels == (32, 64, 128, 256, 512) and recipe.vae.upsample == "nearest"
    assert recorded in recipe.command()
    again = recipe_from_arguments(build_parser().parse_args(recipe.command().split()[3:]))
    assert again.vae == recipe.vae
    assert recipe.build().decode(torch.zeros(2, recipe.vae.latent_dim)).shape == (2, 3, 64, 64)


@pytest.mark.parametrize("model", ["vae", "dfc"])
@pytest.mark.parametrize("channels", ["32,x", "0,64", "8,8,8,8,8,8,8"])
def test_a_bad_channels_option_is_refused_naming_it(model, channels, capsys):
    with pytest.raises(SystemExit) as stopped:
        train_main([model, "--channels", channels, "--steps", "1"])
    assert stopped.value.code == 2
    assert "channels" in capsys.readouterr().err


def _tiny_vae_command(steps: int, tmp_path, *extra: str) -> list[str]:
    return ["vae", "--kind", "vanilla", "--steps", str(steps), "--batch-size", "8", "--faces", "64",
            "--out", str(tmp_path / f"run{steps}"), "--weights-dir", str(tmp_path), *extra]


def test_a_run_goes_on_from_shipped_weights_only_adding_steps_with_the_same_settings(tmp_path, capsys):
    train_main(_tiny_vae_command(20, tmp_path, "--save"))
    first = read_history(history_path("vae_vanilla.safetensors", tmp_path))
    first_command = read_manifest(tmp_path)["vae_vanilla.safetensors"]["command"]
    shipped = read_manifest(tmp_path)["vae_vanilla.safetensors"]["sha256"]
    for steps, extra, named in [(20, [], "already ran 20 steps"), (40, ["--lr", "0.0005"], "same settings")]:
        with pytest.raises(SystemExit) as stopped:
            train_main(_tiny_vae_command(steps, tmp_path, "--save", "--force", "--continue-shipped", *extra))
        assert stopped.value.code == 2 and named in capsys.readouterr().err
        assert read_manifest(tmp_path)["vae_vanilla.safetensors"]["sha256"] == shipped
    train_main(_tiny_vae_command(40, tmp_path, "--save", "--force", "--continue-shipped"))
    entry = read_manifest(tmp_path)["vae_vanilla.safetensors"]
    history = read_history(history_path("vae_vanilla.safetensors", tmp_path))
    assert history.steps == first.steps + [30, 40]                 # steps 21-40 only, after the first 20
    assert history.values["loss"][:2] == first.values["loss"]
    assert "--continue-shipped" in entry["command"] and entry["train"]["steps"] == 40
    earlier, later = entry["command"].split(" && ")                # both legs, the shipped run's first
    assert earlier == first_command and "--continue-shipped" not in earlier and "--steps 40" in later


def test_a_gan_cannot_go_on_from_its_shipped_generator_alone():
    gan = PGGANRecipe.from_options(steps=4, batch_size=4, data=DataSpec(faces=64))
    with pytest.raises(RecipeError, match="holds only the part"):
        gan.shipped_start(gan.initial_model(), None)


def test_each_training_default_lives_in_its_recipe(monkeypatch):
    """The command line, quick runs and the notebooks' CelebA training read the recipe's
    defaults (no second copy of a step count anywhere)."""
    from common import load_or_train as trained
    from common.train.recipes import RECIPES, PGGANRecipe, VAERecipe
    from common.train.__main__ import build_parser, recipe_from_arguments

    for name, kind in RECIPES.items():
        recipe = recipe_from_arguments(build_parser().parse_args([name]))
        assert (recipe.train.steps, recipe.train.batch_size) == (kind.default_steps, kind.default_batch), name
    assert PGGANRecipe.default_steps != VAERecipe.default_steps      # a recipe may differ, and the CLI follows it
    assert VAERecipe.from_options(steps=5000).quick().train.steps == VAERecipe.quick_steps
    asked = {}
    monkeypatch.setattr(trained, "using_celeba", lambda: True)
    monkeypatch.setattr(trained, "models_folder", lambda: Path("/nonexistent"))
    monkeypatch.setattr(trained, "read_manifest", lambda folder: {})
    monkeypatch.setattr(trained, "celeba_limit", lambda: 10)
    monkeypatch.setattr(trained.DataSpec, "current", classmethod(lambda cls, **kw: cls()))

    def no_shipped(**where):
        if "folder" not in where:
            raise trained.WeightsError("none shipped")
        return torch.nn.Linear(1, 1)

    monkeypatch.setattr(PGGANRecipe, "run", lambda self, **kw: asked.update(steps=self.train.steps,
                                                                            batch=self.train.batch_size))
    monkeypatch.setenv("FES_QUICK", "1")
    trained._loaded("pggan", no_shipped, "pggan_celeba64.safetensors")
    assert asked == {"steps": PGGANRecipe.notebook_steps[1], "batch": PGGANRecipe.notebook_batch}


def test_a_celeba_generator_trained_by_the_notebooks_has_the_shipped_generators_labelled_axes(monkeypatch):
    """``pggan_on_data`` on CelebA trains the design that ships on SynthFaces: the manifest's
    labelled axes reach the recipe; a generator shipped without them asks for none."""
    from common import load_or_train as trained

    from common.train.recipes import shipped as shipped_recipes

    def entry(**labels) -> dict:      # a shipped generator's manifest entry, as a run writes it
        recipe = PGGANRecipe.from_options(steps=4, batch_size=4, **labels)
        return {"command": recipe.command(), "model": recipe.model_block(), "train": recipe.train_block()}

    shipped = {"pggan_synth64.safetensors": entry(latent_labels=("Smiling", "Narrow_Eyes"), label_loss="classifier")}
    monkeypatch.setattr(shipped_recipes, "read_manifest", lambda folder=None: shipped)
    monkeypatch.setattr(trained, "read_manifest", lambda folder=None: {})
    monkeypatch.setattr(trained, "using_celeba", lambda: True)
    monkeypatch.setattr(trained, "models_folder", lambda: Path("/nonexistent"))
    monkeypatch.setattr(trained, "celeba_limit", lambda: 10)
    monkeypatch.setattr(trained.DataSpec, "current", classmethod(lambda cls, **kw: cls()))
    trained_recipes = []
    monkeypatch.setattr(PGGANRecipe, "run", lambda self, **kw: trained_recipes.append(self))

    def no_shipped(**where):
        if "folder" not in where:
            raise trained.WeightsError("none shipped")
        return torch.nn.Linear(1, 1)

    trained._loaded("pggan", no_shipped, "pggan_celeba64.safetensors", **trained.shipped_pggan_labels())
    assert trained_recipes[-1].latent_labels == ("Smiling", "Narrow_Eyes")
    assert trained_recipes[-1].label_loss == "classifier"
    assert "--latent-labels Smiling,Narrow_Eyes" in trained_recipes[-1].command()
    shipped["pggan_synth64.safetensors"] = entry()
    trained._loaded("pggan", no_shipped, "pggan_celeba64.safetensors", **trained.shipped_pggan_labels())
    assert trained_recipes[-1].latent_labels == ()
