# Two entry points for a newcomer: `make demo` and `make test`. Both build .venv from uv.lock first.
PYTHON ?= $(shell scripts/find-python)
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint bench sync clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch .venv/.synced

sync: .venv/.synced

demo: .venv/.synced
	.venv/bin/flashscalper demo

lint: .venv/.synced
	.venv/bin/ruff check .

test: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/pytest

clean:
	rm -rf .venv .tools .pytest_cache .ruff_cache
