# The two commands of the README:
#   make lab    set everything up, then open the notebooks in JupyterLab
#   make test   set everything up, then run every test (unit tests + notebooks under nbval)
PY := $(shell bash scripts/setup-env.sh || echo FAILED)
ifeq ($(PY),FAILED)
$(error environment set-up failed: see the messages above (scripts/setup-env.sh))
endif

# This clone's `common` comes first, whatever other clones did with the shared environment.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: lab test unit notebooks notebooks-celeba bench execute-notebooks results which-common

lab:
	$(PY) -m jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

test: unit notebooks notebooks-celeba

unit:
	$(PY) -m pytest tests -m "not celeba_notebooks"

# One notebook: make notebooks NB=notebooks/01_vae_training.ipynb
NB ?= notebooks/
notebooks:
	FES_QUICK=1 $(PY) -m pytest --nbval-lax --nbval-current-env $(NB)

# The same notebooks on CelebA's files: SynthFaces exported in CelebA's layout and geometry.
notebooks-celeba:
	$(PY) -m pytest tests -m celeba_notebooks --durations=0

bench:
	$(PY) benchmarks/synthfaces_speed.py
	$(PY) benchmarks/slider_latency.py
	$(PY) benchmarks/lookalike_speed.py
	$(PY) benchmarks/vae_throughput.py
	$(PY) benchmarks/glow_speed.py
	$(PY) benchmarks/glow_edit_space.py
	$(PY) benchmarks/pggan_speed.py
	$(PY) benchmarks/notebook_runs.py
	$(PY) benchmarks/celeba_training_plan.py

# Re-run every notebook in full mode and store its outputs (what the repository ships).
execute-notebooks:
	cd notebooks && $(PY) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=3600 $(notdir $(if $(filter notebooks/,$(NB)),$(wildcard notebooks/*.ipynb),$(NB)))

# docs/RESULTS.md and the README's verdict table, from weights/manifest.json and notebook 05's docs/results.json.
results:
	$(PY) scripts/results.py

# Where `common` is imported from (a check that this clone's own code is the one in use).
which-common:
	@cd / && $(PY) -c "import common, pathlib; print(pathlib.Path(common.__file__).parent)"
