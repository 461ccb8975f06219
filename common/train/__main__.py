"""``python -m common.train MODEL ...``: train one of the project's models by its recipe.

One process, or ``torchrun --nproc_per_node=N -m common.train ...``::

    python -m common.train classifier --steps 3000 --save
    python -m common.train vae --kind beta_h --data synth --steps 3000 --save
    python -m common.train vae --channels 32,64,128,256,512 --steps 10000 --save
    python -m common.train vae --channels 32,64,128,256,512 --steps 20000 --continue-shipped --save
    python -m common.train dfc --features classifier --steps 3000 --save
    python -m common.train glow --image-size 64 --batch-size 32 --steps 50000 --device cuda
    python -m common.train glow --image-size 64 --batch-size 32 --conditional --init-from glow_64.safetensors --steps 2000
    python -m common.train pggan --latent-labels Smiling,Narrow_Eyes --label-loss classifier --teacher vae --steps 10000 --phase-steps 700 --batch-size 32 --save
    python -m common.train pggan --mapping-layers 4 --channels 128,128,64,64,64 --steps 9000
    python -m common.train vae --data celeba --celeba-root /data/celeba --steps 50000

Every number and choice is checked before any work starts; a problem is one line on
standard error naming the option, the value and what is allowed (exit status 2). So are the
folders the run writes (``--out``, the weights folder with ``--save``, ``FES_CACHE``). A
fault during the run (disk full, read-only) is one line naming the file, with the state of
the checkpoint and the weights (exit status 1); Ctrl-C is one line with the step reached and
the command that resumes (exit status 130). ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ..cli import attribute_names, channel_widths, crop_size, positive_number, whole_number
from ..config import SettingError
from ..files import FolderError, WriteError
from ..models.pggan import MAPPING_LR_MULTIPLIER
from .progressive_gan import KEEP_WEIGHT, LABEL_LOSSES, R1_WEIGHT
from .recipes.pggan import TEACHER_WEIGHT, TEACHERS
from ..models.vae import KINDS, UPSAMPLING
from .recipes import RECIPES, DataSpec, Recipe, RecipeError
from ..weights import WeightsError, weights_dir
from .loop import CHECKPOINT, CheckpointError, TrainingDiverged, TrainingInterrupted

FEATURE_NETWORKS = ("classifier", "vgg123", "vgg345")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m common.train", description="Train a model of this project.")
    parser.add_argument("model", choices=sorted(RECIPES))
    parser.add_argument("--steps", type=whole_number(1), default=None,
                        help="; ".join(f"{name}: {recipe.default_steps}" for name, recipe in sorted(RECIPES.items()))
                             + " by default")
    parser.add_argument("--batch-size", type=whole_number(2), default=None, help="default: the recipe's (64)")
    parser.add_argument("--lr", type=positive_number, default=None, help="default: the recipe's")
    parser.add_argument("--seed", type=whole_number(0), default=0)
    parser.add_argument("--out", default=None, help="checkpoint folder (default runs/NAME)")
    parser.add_argument("--data", choices=("synth", "celeba"), default="synth")
    parser.add_argument("--celeba-root", default=None, help="folder holding img_align_celeba/ and the lists")
    parser.add_argument("--celeba-limit", type=whole_number(1), default=None, metavar="N",
                        help="CelebA: train on the first N faces of the training split (default: all of it)")
    parser.add_argument("--crop", type=crop_size, default=148,
                        help="CelebA: centre crop in pixels before resizing (default 148; 'none': largest square)")
    parser.add_argument("--faces", type=whole_number(1), default=30_000, help="SynthFaces training faces")
    parser.add_argument("--kind", choices=KINDS, default="vanilla", help="vae's objective")
    parser.add_argument("--channels", type=channel_widths, default=None,
                        help="vae, dfc: widths of the encoder's levels, decoder mirrored (default 32,64,128,256); "
                             "pggan: the generator's widths at 4x4 .. its resolution (default 128,128,64,32,16)")
    parser.add_argument("--upsample", choices=UPSAMPLING, default=None,
                        help="vae: the decoder's upsampling (default transposed)")
    parser.add_argument("--features", choices=FEATURE_NETWORKS, default="classifier", help="dfc's feature network")
    parser.add_argument("--image-size", type=int, default=None,
                        help="; ".join(f"{model}: {', '.join(map(str, recipe.sizes))}" for model, recipe in RECIPES.items()))
    parser.add_argument("--phase-steps", type=whole_number(1), default=None,
                        help="pggan: steps per fade-in or stable phase (default steps // 10)")
    parser.add_argument("--mapping-layers", type=whole_number(0), default=0,
                        help="pggan: dense layers of a mapping network z -> w in front of the generator (0: none)")
    parser.add_argument("--mapping-lr", type=float, default=MAPPING_LR_MULTIPLIER,
                        help="pggan: the mapping network's learning rate as a multiple of the generator's "
                             f"(default: StyleGAN's {MAPPING_LR_MULTIPLIER:g})")
    parser.add_argument("--latent-labels", type=attribute_names, default=(),
                        help="pggan: attributes (e.g. Smiling,Narrow_Eyes) that z's first axes carry, one each: "
                             "the discriminator sees them, so the generator draws each along its axis")
    parser.add_argument("--label-loss", choices=LABEL_LOSSES, default="projection",
                        help="pggan with --latent-labels: how the discriminator teaches them: projection (its score "
                             "of an image with its labels) or classifier (AC-GAN: an auxiliary attribute classifier "
                             "whose cross-entropy on the fakes' labels the generator lowers)")
    parser.add_argument("--teacher", choices=TEACHERS, default="",
                        help="pggan: a trained decoder whose faces the generator first redraws, its latent turned so "
                             "that the labelled attributes lie along their axes (vae: the shipped VAE of the data)")
    parser.add_argument("--teacher-weight", type=positive_number, default=TEACHER_WEIGHT,
                        help=f"pggan with --teacher: weight of its L1 anchor, fading to 0 (default {TEACHER_WEIGHT:g})")
    parser.add_argument("--teacher-steps", type=whole_number(1), default=None,
                        help="pggan with --teacher: steps over which the anchor fades (default half the run)")
    parser.add_argument("--keep-labels", type=attribute_names, default=(),
                        help="pggan with --label-loss classifier: attributes (e.g. Male,Pale_Skin) that the "
                             "labelled axes must not change: the auxiliary classifier learns them too, and the "
                             "generator keeps its reading of them when only the labelled axes are drawn again")
    parser.add_argument("--keep-weight", type=positive_number, default=KEEP_WEIGHT,
                        help=f"pggan with --keep-labels: weight of that term (default {KEEP_WEIGHT:g})")
    parser.add_argument("--width", type=whole_number(4), default=None,
                        help="encoder: channels of its first convolution (default 32)")
    parser.add_argument("--gan-loss", choices=("logistic", "wgan-gp"), default="logistic", help="pggan's loss")
    parser.add_argument("--r1-weight", type=float, default=R1_WEIGHT,
                        help=f"pggan, logistic loss: weight of the R1 penalty on real images (default {R1_WEIGHT:g})")
    parser.add_argument("--coupling", choices=("additive", "affine"), default="additive",
                        help="glow's coupling: additive (no division on the reverse pass, so edited latents "
                             "decode finitely; the paper's choice for its CelebA-HQ edits) or affine")
    parser.add_argument("--top-size", type=int, choices=(4, 8), default=None,
                        help="glow: the side of the top level's grid (default 4: 3 levels at 32 px, 4 at 64 px; "
                             "8 at 64 px: 3 levels, each top cell an 8x8 patch of the face)")
    parser.add_argument("--conditional", action="store_true",
                        help="glow: condition the top prior on the data's attributes (the Glow paper's "
                             "class-conditional model; ships as glow_cond_SIZE)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda when present")
    parser.add_argument("--amp", choices=("on", "off"), default="on",
                        help="mixed precision on a GPU (bf16, or fp16 with a gradient scaler); off: fp32 (CPU: always fp32)")
    parser.add_argument("--save", action="store_true", help="ship the result with the manifest in --weights-dir")
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="where --save writes (default: FES_WEIGHTS_DIR, else the clone's weights/)")
    parser.add_argument("--continue-shipped", action="store_true",
                        help="start from the weights shipped in --weights-dir and their step count (a run "
                             "that goes on to --steps in all, with a fresh optimizer)")
    parser.add_argument("--init-from", default=None, metavar="FILE",
                        help="start from the shipped weights FILE in --weights-dir (e.g. glow_64.safetensors for "
                             "a conditional Glow), at step 0 with this run's schedule")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument("--force", action="store_true",
                        help="with --save: replace shipped weights even when the new metrics are worse")
    return parser


# The command line's options each recipe takes besides the shared ones.
MODEL_OPTIONS = {"classifier": ("image_size",), "vae": ("kind", "channels", "upsample"),
                 "dfc": ("features", "channels"),
                 "glow": ("image_size", "coupling", "top_size", "conditional"), "pggan": ("image_size", "phase_steps", "gan_loss", "r1_weight", "channels",
                                   "mapping_layers", "mapping_lr", "latent_labels", "label_loss", "teacher",
                                   "teacher_weight", "teacher_steps", "keep_labels", "keep_weight"),
                 "encoder": ("width",)}


def recipe_from_arguments(args: argparse.Namespace) -> Recipe:
    """The complete recipe the parsed command line asks for."""
    data = DataSpec(name=args.data, faces=args.faces, seed=args.seed, celeba_root=args.celeba_root, crop=args.crop,
                    celeba_limit=args.celeba_limit)
    own = {name: getattr(args, name) for name in MODEL_OPTIONS[args.model]}
    recipe = RECIPES[args.model].from_options(steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                                              seed=args.seed, out=args.out, device=args.device, data=data, **own)
    if args.out is None:
        recipe = replace(recipe, train=replace(recipe.train, out=f"runs/{recipe.weights_name().split('.')[0]}"))
    return replace(recipe, train=replace(recipe.train, amp=args.amp == "on"))


MACHINE_OPTIONS = ("--out", "--weights-dir")   # where this machine keeps files: not part of a recorded command


def portable_command(argv: list[str]) -> str:
    """The command line a user can run from any clone: ``argv`` without the options that name
    this machine's folders (``--out``, ``--weights-dir``, with their values), which take
    their defaults there."""
    words, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in MACHINE_OPTIONS:
            skip = True
        elif not word.startswith(tuple(f"{option}=" for option in MACHINE_OPTIONS)):
            words.append(word)
    return " ".join(["python -m common.train", *words])


def fault_state(recipe: Recipe, args: argparse.Namespace) -> str:
    """What a failed run left as it was: its checkpoint and, with ``--save``, the weights."""
    checkpoint = Path(recipe.train.out) / CHECKPOINT
    state = (f"the checkpoint {checkpoint} is unchanged" if checkpoint.exists()
             else "no checkpoint was written")
    if args.save:
        state += f"; the weights in {args.weights_dir or weights_dir()} are unchanged"
    return state


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    sizes = RECIPES[args.model].sizes
    if args.image_size is not None and args.image_size not in sizes:
        parser.error(f"argument --image-size: {args.model} trains at {' or '.join(map(str, sizes))} pixels, "
                     f"not {args.image_size}")
    recipe = None
    try:
        recipe = recipe_from_arguments(args)
        recipe.run(save=args.save, force=args.force, weights_dir=args.weights_dir, command=portable_command(argv),
                   continue_shipped=args.continue_shipped, init_from=args.init_from)
    except (RecipeError, WeightsError, CheckpointError, FolderError, SettingError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except (TrainingDiverged, WriteError) as error:
        if args.debug:
            raise
        state = f"; {fault_state(recipe, args)}" if isinstance(error, WriteError) and recipe is not None else ""
        print(f"error: {error}{state}", file=sys.stderr)
        raise SystemExit(1) from None
    except (TrainingInterrupted, KeyboardInterrupt) as error:
        if args.debug:
            raise
        where = f"{error}; " if isinstance(error, TrainingInterrupted) else "interrupted before training began; "
        print(f"{where}resume with: python -m common.train {' '.join(argv)}", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
