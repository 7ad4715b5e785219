# pingan — two commands: `make demo` and `make test`.
# Needs only python3 (3.11), git, make, node/npm and the package registries.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test install lint unit browser serve clean bench

demo: install
	$(VENV)/bin/pingan demo

test: install lint
	$(VENV)/bin/pytest

install: $(VENV)/.synced pingan/static/vendor/.built

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy pingan

serve: install
	$(VENV)/bin/pingan serve

bench: install
	$(VENV)/bin/python bench/bench_locate.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

pingan/static/vendor/.built: node_modules/.installed scripts/build_assets.py
	$(VENV)/bin/python scripts/build_assets.py
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) node_modules pingan/static/vendor var/static
