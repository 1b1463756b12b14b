# rankfield — the whole set-up is `make demo` or `make test` on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= outputs
# torch is installed before the package; the default takes this project's machines' local CPU wheel.
# Elsewhere: make test TORCH="torch --index-url https://download.pytorch.org/whl/cpu" (or TORCH=torch for CUDA)
TORCH  ?= torch==2.13.0

.PHONY: demo test test-all docs bench bench-inr bench-nerf bench-planar bench-sindy bench-rktv bench-many bench-discover bench-gpu clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, so pip does not pull the CUDA stack for a bare `torch` dependency.
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[test]"   # test pulls every user extra and nbmake
	touch $(STAMP)

DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	touch $(DOCS_STAMP)

demo: $(STAMP)
	$(VENV)/bin/rankfield fit-image --out $(OUT)/fit-image
	$(VENV)/bin/rankfield fit-images --out $(OUT)/fit-images
	$(VENV)/bin/rankfield fit-scene --out $(OUT)/fit-scene
	$(VENV)/bin/rankfield discover --out $(OUT)/discover
	@echo "demo outputs are in $(OUT)/"

# the suite, the docstring examples of src/, and every gallery notebook in a real Jupyter kernel (nbmake)
test: $(STAMP)
	$(PY) -m pytest --nbmake --nbmake-timeout=300 tests src docs/gallery

# the documentation site, strict: a broken reference or a public name without a docstring fails it
docs: $(DOCS_STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site
test-all: $(STAMP)
	$(PY) -m pytest -m "" --nbmake --nbmake-timeout=300 tests src docs/gallery

# the CPU benchmarks, one after the other (each writes its own section of docs/benchmarks.md)
bench: bench-inr bench-nerf bench-planar bench-sindy bench-rktv bench-many bench-discover

bench-inr: $(STAMP)
	$(PY) benchmarks/inr_images.py

bench-nerf: $(STAMP)
	$(PY) benchmarks/pose_nerf.py

bench-planar: $(STAMP)
	$(PY) benchmarks/planar_barf.py

bench-sindy: $(STAMP)
	$(PY) benchmarks/sindy_noise.py

bench-rktv: $(STAMP)
	$(PY) benchmarks/rktv_settings.py

bench-many: $(STAMP)
	$(PY) benchmarks/fit_many.py

# discover's wall time on 1000 x 3 against its earlier defaults and finite differences (~5 min)
bench-discover: $(STAMP)
	$(PY) benchmarks/discover_speed.py

# every GPU figure in one command (~20 min on one H100); without CUDA it says so in one line and exits.
# On a GPU machine install a CUDA build of torch into .venv first (the stamp installs the CPU wheel).
bench-gpu: $(STAMP)
	$(PY) benchmarks/gpu_suite.py

clean:
	rm -rf $(VENV) $(OUT) build site src/*.egg-info
