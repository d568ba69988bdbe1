# The two commands: `make run` and `make test`. Both bootstrap .venv from uv.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
SYNCED := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)

.PHONY: run test test-fast test-image docs lint typecheck pytest bench fuzz clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: precompiled .pyc, so the first `mediagate` start is not spent compiling.
$(SYNCED): $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --quiet --compile-bytecode --all-extras
	rm -f $(VENV)/.synced-* && touch $@

run: $(SYNCED)
	$(BIN)/mediagate serve

lint: $(SYNCED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(SYNCED)
	$(BIN)/mypy

# The PostgreSQL tests start a throwaway cluster of their own; this only installs the server.
# Two processes (pytest-xdist), one test file each at a time: most tests wait on servers.
pytest: $(SYNCED)
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	scripts/ensure-node-sdks.sh
	scripts/ensure-espeak.sh
	scripts/ensure-tesseract.sh
	$(BIN)/pytest -n 2 --dist loadfile

test: lint typecheck pytest

# The container image, built from the unchanged Containerfile on a Debian root made here,
# run, and a task made in it. A tier of its own (95 s cold), apart from `make test`, which
# stays under ten minutes on two cores; .ci/run runs both.
test-image: $(SYNCED)
	scripts/ensure-podman.sh
	$(BIN)/pytest -p no:cacheprovider -o addopts="-ra -q" tests/image

# The first two tiers (tests/unit: in-memory fakes, milliseconds; tests/integration: SQLite,
# PostgreSQL, vendor fakes, in-process) without the end-to-end tier's server processes.
test-fast: $(SYNCED)
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	scripts/ensure-espeak.sh
	scripts/ensure-tesseract.sh
	$(BIN)/pytest -n 2 --dist loadfile tests/unit tests/integration

# The docs site from docs/ (MkDocs Material), strict: a broken link or a missing page fails.
docs: $(SYNCED)
	$(BIN)/mkdocs build --strict  # not --quiet: it hides the warnings strict mode counts

bench: $(SYNCED)
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/creates.py
	$(BIN)/python bench/local_tools.py

# A longer schemathesis run than the one in `make test`.
fuzz: $(SYNCED)
	MEDIAGATE_FUZZ_EXAMPLES=$${MEDIAGATE_FUZZ_EXAMPLES:-200} $(BIN)/pytest -s tests/e2e/test_fuzz.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
