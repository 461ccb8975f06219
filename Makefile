# The two commands of the README:
#   make lab    set everything up, then open the notebooks in JupyterLab
#   make test   set everything up, then run every test (unit tests, notebooks under nbval and on CelebA's layout)
PY := $(shell bash scripts/setup-env.sh || echo FAILED)
ifeq ($(PY),FAILED)
$(error environment set-up failed: see the messages above (scripts/setup-env.sh))
endif

# glibc gives each large freed block back to the kernel at once and takes it again, zeroed,
# at the next allocation: on this project's image-sized tensors that churn cost the tests
# 40% of their time in the kernel (on a 2-core VM). These three settings, together, keep
# freed memory in the process (`python benchmarks/malloc_churn.py` measures it).
export MALLOC_MMAP_THRESHOLD_ := 4294967296
export MALLOC_TRIM_THRESHOLD_ := 4294967296
export MALLOC_TOP_PAD_ := 536870912

# This clone's `common` comes first, whatever other clones did with the shared environment.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: lab test tests notebooks notebooks-celeba bench execute-notebooks results which-common

# The tests are many small computations, which N processes of one thread each (pytest-xdist)
# run faster than one process on N threads: N is the machine's cores, at most 4.
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
ONE_THREAD := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

lab:
	$(PY) -m jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# One session: the CelebA-layout notebook runs start first on one worker, the other workers
# share the unit tests and the notebooks under nbval (quick mode: FES_QUICK for their kernels;
# tests/conftest.py runs the unit tests without it).
test:
	FES_QUICK=1 $(ONE_THREAD) $(PY) -m pytest -n $(WORKERS) --dist loadfile --nbval-lax --nbval-current-env tests notebooks/

# tests/: the unit tests, a file a worker, and every notebook run on CelebA's files (first, in
# order, on one worker, while the others share the rest).
tests:
	$(ONE_THREAD) $(PY) -m pytest -n $(WORKERS) --dist loadfile tests

# The notebooks under nbval in quick mode, a notebook a worker.
# One notebook: make notebooks NB=notebooks/01_vae_training.ipynb
NB ?= notebooks/
notebooks:
	FES_QUICK=1 $(ONE_THREAD) $(PY) -m pytest -n $(WORKERS) --dist loadfile --nbval-lax --nbval-current-env $(NB)

# Only the notebooks on CelebA's files: SynthFaces exported in CelebA's layout and geometry.
notebooks-celeba:
	$(ONE_THREAD) $(PY) -m pytest tests -m celeba_notebooks --durations=0

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
	$(PY) benchmarks/malloc_churn.py

# Re-run every notebook in full mode and store its outputs (what the repository ships).
execute-notebooks:
	cd notebooks && $(PY) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=3600 $(notdir $(if $(filter notebooks/,$(NB)),$(wildcard notebooks/*.ipynb),$(NB)))

# docs/RESULTS.md and the README's verdict table, from weights/manifest.json and notebook 05's docs/results.json.
results:
	$(PY) scripts/results.py

# Where `common` is imported from (a check that this clone's own code is the one in use).
which-common:
	@cd / && $(PY) -c "import common, pathlib; print(pathlib.Path(common.__file__).parent)"
