# The workshop's entry points. `make run` and `make test` bootstrap everything they need on a fresh machine.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-apiserver lab diagrams bench clean system-deps node-deps apiserver eso real notebooks help venv

help:
	@echo "make run        start the embedded lab and run the whole tutorial headless (build/executed, build/html)"
	@echo "make test       the whole test suite (what CI runs)"
	@echo "make lab        start the lab and JupyterLab on 127.0.0.1"
	@echo "make notebooks  re-execute the notebooks in place against the lab (the committed outputs)"
	@echo "make diagrams   render diagrams/*.mmd to SVG"
	@echo "make apiserver  build the real kube-apiserver, kube-controller-manager and etcd from the Go module proxy"
	@echo "make eso        build the real External Secrets Operator controller from the Go module proxy"
	@echo "make real       build the whole real stack once (apiserver + eso) and print what it took"
	@echo "make test-apiserver  the lab and contract tests against the real kube-apiserver"
	@echo "make bench      run the benchmarks side by side"
	@echo "make clean      stop the lab and remove build outputs (keeps .venv)"

# The virtual environment is rebuilt only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
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

# The real stack when it is built (make real), else the emulator; the run says which.
run: $(STAMP) node-deps
	$(PY) -m helpers lab up --kube auto
	$(PY) -m helpers run

notebooks: $(STAMP) node-deps
	$(PY) -m helpers lab up
	$(PY) -m helpers run --in-place --no-html

# The whole suite against the lab's emulator; then, when the real kube-apiserver is built (make apiserver;
# .ci/run builds it), the lab and contract tests once more against it.
test: $(STAMP) system-deps node-deps
	$(PY) -m pytest
	@if [ -x "$$(bash tools/k8s/build.sh --print-dir)/kube-apiserver" ]; then \
	   echo "== the lab and contract tests against the real kube-apiserver =="; \
	   WORKSHOP_LAB_KUBE=apiserver $(PY) -m pytest tests/lab tests/contract; \
	 else echo "(the real kube-apiserver is not built: run 'make apiserver' to test the emulator against it)"; fi

lab: $(STAMP)
	$(PY) -m helpers lab up
	$(PY) -m jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=notebooks

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
