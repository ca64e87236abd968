# The workshop's entry points. `make run` and `make test` bootstrap everything they need on a fresh machine.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: mermaid-js run test test-apiserver lab diagrams bench clean system-deps node-deps apiserver eso real notebooks help venv

help:
	@echo "make run        start the embedded lab and run the whole tutorial headless (build/executed, build/html)"
	@echo "make mermaid-js mermaid's browser build for the HTML export (npm pack; make run does it)"
	@echo "make test       the whole test suite (what CI runs)"
	@echo "make lab        start the lab and JupyterLab on 127.0.0.1; prints the URL that opens the chapter"
	@echo "make notebooks  re-execute the notebooks in place (the committed outputs): chapter 2 on the emulator, chapter 3 on the real stack"
	@echo "make diagrams   render diagrams/*.mmd to SVG"
	@echo "make apiserver  build the real kube-apiserver, kube-controller-manager and etcd from the Go module proxy"
	@echo "make eso        build the real External Secrets Operator controller from the Go module proxy"
	@echo "make real       build the whole real stack once (apiserver + eso) and print what it took"
	@echo "make test-apiserver  the lab and contract tests against the real kube-apiserver"
	@echo "make bench      run the benchmarks side by side"
	@echo "make clean      stop the lab and remove build outputs (keeps .venv)"

# The virtual environment is rebuilt only when pyproject.toml changes. uv installs it in seconds: the uv on
# PATH, else one pip puts in .cache/uv (no ensurepip, no pip in the venv); plain venv + pip when neither works.
UV_HOME := .cache/uv
# uv does not compile bytecode and this Makefile stops Python from caching it, so the akeyless SDK's
# 1,300 modules would be compiled from source at every kernel start (about 6 s): compile that one
# package at install time (about 4 s, once). Found without importing it.
export AKEYLESS_DIR := import importlib.util as u; print(u.find_spec("akeyless").submodule_search_locations[0])
$(STAMP): pyproject.toml
	@uv="$$(command -v uv || true)"; \
	 if [ -z "$$uv" ] && { test -x $(UV_HOME)/bin/uv || python3 -m pip install -q --disable-pip-version-check \
	        --root-user-action=ignore --target $(UV_HOME) uv >/dev/null 2>&1; }; then uv=$(UV_HOME)/bin/uv; fi; \
	 if [ -n "$$uv" ]; then \
	   echo "installing the Python packages into .venv with uv"; \
	   { test -x $(PY) || $$uv venv -q .venv; } && $$uv pip install -q --python $(PY) -e '.[test]' && \
	   $(PY) -m compileall -q -j0 "$$($(PY) -c "$$AKEYLESS_DIR")" >/dev/null; \
	 else \
	   echo "installing the Python packages into .venv with pip (uv is not available)"; \
	   { test -x $(PY) || python3 -m venv .venv; } && $(PY) -m pip install -q --disable-pip-version-check -e '.[test]'; \
	 fi
	@touch $@

venv: $(STAMP)

# Chromium (diagram rendering, browser tests) and wrk (benchmarks) come from Debian; installed once.
system-deps:
	@missing=""; \
	 command -v chromium >/dev/null || missing="$$missing chromium fonts-liberation"; \
	 command -v wrk >/dev/null || missing="$$missing wrk"; \
	 if [ -n "$$missing" ]; then \
	   echo "installing from Debian:$$missing"; \
	   if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	   $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	 fi

tools/mermaid/node_modules/.installed: tools/mermaid/package.json tools/mermaid/package-lock.json
	cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: tools/mermaid/node_modules/.installed

# mermaid's browser build alone (one package, no puppeteer): all the HTML export needs. Skipped when
# tools/mermaid is fully installed or the pinned version is already unpacked.
MERMAID_VERSION := $(shell sed -n 's/.*"mermaid": *"\([^"]*\)".*/\1/p' tools/mermaid/package.json)
MERMAID_JS := .cache/mermaid-js/mermaid-$(MERMAID_VERSION)/package/dist/mermaid.min.js
mermaid-js:
	@if [ ! -f tools/mermaid/node_modules/mermaid/dist/mermaid.min.js ] && [ ! -f $(MERMAID_JS) ]; then \
	   echo "fetching mermaid $(MERMAID_VERSION)'s browser build (npm pack)"; \
	   dir=$$(dirname $$(dirname $$(dirname $(MERMAID_JS)))); mkdir -p $$dir && \
	   tarball=$$(cd $$dir && npm pack --silent mermaid@$(MERMAID_VERSION)) && \
	   tar -xzf $$dir/$$tarball -C $$dir package/dist/mermaid.min.js package/LICENSE && rm -f $$dir/$$tarball; \
	 fi

# mermaid-js, not node-deps: the export needs mermaid's browser build only. With tools/mermaid installed
# (make node-deps) and chromium, the run also turns its diagrams into PNGs for untrusted viewers.
# The two downloads run side by side (-j2): they do not depend on each other. The real stack when it is
# built (make real), else the emulator; the run says which.
run:
	@$(MAKE) --no-print-directory -j2 venv mermaid-js
	@$(PY) -m helpers lab up --kube auto
	@$(PY) -m helpers run

# Chapter 2's committed outputs come from the emulator (what nbval compares in CI's first pass), chapter 3's
# from the real stack (it needs the real ESO controller; nbval runs it in the second pass). Without the
# real stack built, chapter 3's committed outputs are left as they are and the target says what to run.
REAL_BUILT := $(PY) -c "import sys; from helpers.lab import apiserver; sys.exit(not apiserver.real_stack_available())"
notebooks: $(STAMP) node-deps
	@echo "== make notebooks: the chapters whose committed outputs come from the emulator =="
	$(PY) -m helpers lab up --kube emulator
	WORKSHOP_LAB_KUBE=emulator $(PY) -m helpers run --in-place --no-html --chapters emulator
	@if $(REAL_BUILT); then \
	   echo "== make notebooks: the chapters whose committed outputs come from the real stack (etcd, kube-apiserver, kube-controller-manager, ESO) =="; \
	   $(PY) -m helpers lab up --kube apiserver && \
	   WORKSHOP_LAB_KUBE=apiserver $(PY) -m helpers run --in-place --no-html --chapters real; \
	 else \
	   echo "make notebooks: the real stack is not built, so the chapters that need it (chapter 3) keep their committed outputs."; \
	   echo "  Run 'make real' once (Go >= 1.24, ~5 min cold), then 'make notebooks' again."; \
	 fi

# The whole suite against the lab's emulator (a real-stack chapter's nbval and tests skip, saying why); then,
# when the real kube-apiserver is built (make apiserver; .ci/run builds it), the lab and contract tests once
# more against it, with the real-stack chapters' notebooks (nbval) and tests/notebooks/test_chapterN_*.py.
test: $(STAMP) system-deps node-deps
	$(PY) -m pytest
	@if [ -x "$$(bash tools/k8s/build.sh --print-dir)/kube-apiserver" ]; then \
	   chapters="$$($(PY) -c "from helpers.tutorial import real_stack_test_paths; print(' '.join(real_stack_test_paths()))")"; \
	   echo "== the lab and contract tests against the real kube-apiserver$${chapters:+, and the real-stack chapters ($$chapters)} =="; \
	   WORKSHOP_LAB_KUBE=apiserver $(PY) -m pytest tests/lab tests/contract $$chapters; \
	 else echo "(the real kube-apiserver is not built: run 'make apiserver' to test the emulator against it)"; fi

# JupyterLab serves notebooks/ and opens on the first chapter: the URL it prints goes straight there.
# Root (containers, dev containers) needs --allow-root; kernels talk over private Unix sockets.
CHAPTER := $(notdir $(firstword $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))))
lab: $(STAMP)
	@$(PY) -m helpers lab up
	@echo "Starting JupyterLab on 127.0.0.1: open the http://127.0.0.1:.../lab/tree/$(CHAPTER)?token=... URL it prints (Ctrl-C stops it)."
	$(PY) -m jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=notebooks \
	  --LabApp.default_url=/lab/tree/$(CHAPTER) --KernelManager.transport=ipc \
	  $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

diagrams: $(STAMP) system-deps node-deps
	bash tools/mermaid/render.sh

# The real kube-apiserver, kube-controller-manager + etcd, built from the Go module proxy into
# ~/.cache/akeyless-workshop (skipped when present)
apiserver:
	bash tools/k8s/build.sh

# The real ESO controller and its CRDs, same cache (skipped when present)
eso:
	bash tools/eso/build.sh

# The whole real stack, once: `lab up --kube apiserver` then runs ESO beside the real control plane
real:
	@start=$$(date +%s); \
	 bash tools/k8s/build.sh && bash tools/eso/build.sh && \
	 echo "make real: the real stack is built in $$(bash tools/k8s/build.sh --print-dir) and $$(bash tools/eso/build.sh --print-dir) ($$(( $$(date +%s) - start )) s; $$(du -sh $$(bash tools/k8s/build.sh --print-dir) $$(bash tools/eso/build.sh --print-dir) | awk '{print $$1}' | paste -sd+ -) of binaries)"

# The contract suite against the real kube-apiserver (builds it first when missing: ~5 min cold)
test-apiserver: $(STAMP) apiserver
	WORKSHOP_LAB_KUBE=apiserver $(PY) -m pytest tests/lab tests/contract

bench: $(STAMP) system-deps
	$(PY) benchmarks/run_all.py

clean:
	-$(PY) -m helpers lab down
	rm -rf build
