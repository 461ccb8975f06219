"""The README's first figures: one held-out face per method, its smile slider at -2, 0 and +2
(``common.edit_figures``; for the VAE and the DFC-VAE also along the face's own look-alike
vector, the panel's "each face's own vector"; for the PGGAN also along InterFaceGAN's
conditional normal that holds the identity factors, notebook 05's "identity held"), and an
animation of the same face in every method while one Smiling slider sweeps from -2 to +2
(``common.compare_panel``, notebook 05's one-slider panel), from the shipped weights (or,
with ``CELEBA_ROOT`` set, the CelebA ones). Prints each reading as a table too.

    python scripts/smile_grid.py                      # writes docs/smile_grid.png and docs/smile_sweep.gif
    python scripts/smile_grid.py --out /tmp/grid.png --gif /tmp/sweep.gif --fit 2000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from common import face_data, plot  # noqa: E402
from common.cli import whole_number  # noqa: E402
from common.arithmetic import decode_faces, encode_faces  # noqa: E402
from common.compare_panel import save_sweep_gif, sweep_frames  # noqa: E402
from common.files import atomic_path  # noqa: E402
from common.judge.scoreboard import EditScorer, edits_for, identity_readings, svm_direction  # noqa: E402
from common.edit_figures import (FIGURE_DPI, STRENGTHS, Subject, encoder_subject, renderer_subject,  # noqa: E402
                             showcase_faces, showcase_figure, subject_strip)
from common.load_or_train import classifier_on_data, glow_on_data, pggan_on_data, vae_on_data  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "smile_grid.png", help="PNG to write")
    parser.add_argument("--gif", type=Path, default=ROOT / "docs" / "smile_sweep.gif", help="animation to write")
    parser.add_argument("--frames", type=whole_number(3), default=17, help="strengths the animation sweeps through")
    parser.add_argument("--fit", type=whole_number(100), default=10_000,
                        help="training faces (and generator samples) that define each direction")
    parser.add_argument("--held-out", type=whole_number(10), default=2_000, help="held-out faces to judge against")
    parser.add_argument("--inversion-steps", type=whole_number(1), default=None,
                        help="steps that find the generator's latent of the held-out face (default: those of "
                             "the refinement of its encoder's answer, or 200 from random samples without one)")
    args = parser.parse_args(argv)

    train, test = face_data("train", n=args.fit, size=64), face_data("test", n=args.held_out, size=64)
    judge = EditScorer(classifier_on_data(64), test.images(slice(None)))
    smile = edits_for(test)[0]
    chosen = showcase_faces(test, [smile])[0]

    subjects, face = {}, test.images([chosen])
    if hasattr(test, "factors"):                      # SynthFaces: the face itself, re-rendered, comes first
        subjects["Renderer (truth)"] = renderer_subject(train, test, smile)
    encoders = {"VAE": vae_on_data("vanilla"), "DFC-VAE": vae_on_data("dfc"),
                "Glow (64x64, conditional)": glow_on_data(64, conditional=True)}
    lookalikes = args.fit // 30                       # notebook 05's look-alikes per group
    for name, model in encoders.items():
        codes = encode_faces(model, train.images(slice(None)))
        subjects[name] = encoder_subject(model, train, test, smile, train_codes=codes)
        if not name.startswith("Glow"):               # Glow's look-alike vectors barely move its smile (notebook 05)
            subjects[f"{name}, own vector"] = encoder_subject(model, train, test, smile, lookalikes=lookalikes,
                                                              train_codes=codes)
    gan = pggan_on_data()
    samples = gan.sample_latent(args.fit, seed=0)
    sample_reading = judge.read(decode_faces(gan, samples))
    values = judge.value(sample_reading, smile)
    code = gan.encode(face, steps=args.inversion_steps)[0]     # its encoder's answer, refined, where one is shipped
    subjects["PGGAN + InterFaceGAN"] = Subject(gan, code, svm_direction(samples, values, smile))
    held = identity_readings(judge.classifier, sample_reading)  # the conditional normal, where factors are read
    if held:
        subjects["PGGAN + InterFaceGAN, identity held"] = Subject(gan, code, svm_direction(samples, values, smile, held))
    strips = {name: subject_strip(subject, face[0], judge, smile) for name, subject in subjects.items()}

    columns = ["face", *(f"{s:+g}" for s in STRENGTHS)]
    print(f"held-out face {chosen}; {smile.factor} read by the attribute classifier at each smile strength (gaps)")
    print(plot.text_table([{"method": name, **dict(zip(columns, strip.readings.tolist()))}
                           for name, strip in strips.items()], {column: "+.2f" for column in columns}))
    figure = showcase_figure(strips, smile)
    with atomic_path(args.out, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=FIGURE_DPI)
    print(f"wrote {args.out}")
    shared = {name: subject for name, subject in subjects.items() if not name.endswith("own vector")}
    sweep = torch.linspace(-2.0, 2.0, args.frames).tolist()
    with atomic_path(args.gif, suffix=".gif") as tmp:
        save_sweep_gif(sweep_frames(shared, sweep, smile.name), tmp)
    print(f"wrote {args.gif}")


if __name__ == "__main__":
    main()
