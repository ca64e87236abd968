"""The real ESO controller (lab's real stack) against the Python replay (helpers/eso.py on the emulator
lab), side by side in one run, with ratios.

    .venv/bin/python benchmarks/eso_sync.py [--syncs 20] [--fleet 100] [--rotations 5]

What is timed:
- cold start to ready: `lab up` in a fresh directory; the real stack includes etcd, kube-apiserver,
  kube-controller-manager, ESO's CRDs and the ESO controller (aim: under 8 s);
- first sync: an ExternalSecret applied until its Secret is present (real: apply, then poll the Secret;
  replay: one eso.sync call), median and p95 (aim: real median under 1 s);
- rotation: a value changed in Akeyless until the Secret holds it, with refreshInterval 2 s (real only:
  the replay has no schedule), and the delay beyond the interval's average wait;
- fleet: N ExternalSecrets created at once until all are synced, and the gateway requests each sync
  cost (read from the gateway's audit log).
The real side is skipped, with a message, when `make real` has not been run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import akeyless_client as ak  # noqa: E402
from helpers import eso, eso_controller  # noqa: E402
from helpers.chapters import kubernetes_auth  # noqa: E402
from helpers import lab as lab_runtime  # noqa: E402
from helpers.config import Settings  # noqa: E402
from helpers.errors import ClusterError  # noqa: E402
from helpers.lab import apiserver  # noqa: E402

REFRESH = 2.0


def p95(values):
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def _cold_start(mode: str) -> float:
    with tempfile.TemporaryDirectory(prefix=f"bench-eso-{mode}-") as directory:
        settings = Settings.load(target="lab", lab_dir=str(Path(directory) / "lab"), kube=mode)
        try:
            started = time.perf_counter()
            lab_runtime.up(settings)
            return time.perf_counter() - started
        finally:
            lab_runtime.down(settings)


def _chapter(mode: str, directory: str):
    os.environ["WORKSHOP_LAB_DIR"] = str(Path(directory) / "lab")
    chapter = kubernetes_auth.Chapter.open(kube=mode, secret_value="bench-value")
    for step in (chapter.seed_secret, chapter.request_token, chapter.create_auth_method, chapter.create_reviewer,
                 chapter.create_gateway_config, chapter.create_role):
        step()
    return chapter


def _external(chapter, name: str, refresh: str = "1h") -> eso.Manifest:
    return eso.external_secret(name, chapter.p.namespace, chapter.secret_store(), name,
                               {"password": chapter.p.secret_path}, refresh_interval=refresh)


def _secret_value(chapter, name: str) -> str | None:
    try:
        return chapter.cluster.read_secret(chapter.p.namespace, name).value("password")
    except (ClusterError, KeyError):
        return None


def _until(predicate, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"not reached within {timeout:.0f} s")
        time.sleep(0.01)
    return time.perf_counter() - started


def _gateway_requests(chapter) -> int:
    return len(ak.audit_log(chapter.akeyless, limit=20000).entries)


def measure_real(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-eso-real-") as directory:
        chapter = _chapter("apiserver", directory)
        try:
            cluster, store = chapter.cluster, chapter.secret_store()
            eso_controller.apply(cluster, store)
            eso_controller.wait(cluster, store, progress=None)
            first = []
            for i in range(args.syncs):
                started = time.perf_counter()
                eso_controller.apply(cluster, _external(chapter, f"first-{i}"))
                _until(lambda i=i: _secret_value(chapter, f"first-{i}") is not None)
                first.append(time.perf_counter() - started)
            rotation = []
            eso_controller.apply(cluster, _external(chapter, "rotating", refresh=f"{REFRESH:.0f}s"))
            _until(lambda: _secret_value(chapter, "rotating") is not None)
            for i in range(args.rotations):
                value = f"rotated-{i}"
                ak.update_secret(chapter.akeyless, chapter.p.secret_path, value)
                rotation.append(_until(lambda v=value: _secret_value(chapter, "rotating") == v))
            ak.update_secret(chapter.akeyless, chapter.p.secret_path, "bench-value")
            before = _gateway_requests(chapter)
            started = time.perf_counter()
            for i in range(args.fleet):
                eso_controller.apply(cluster, _external(chapter, f"fleet-{i}"))
            _until(lambda: all(_secret_value(chapter, f"fleet-{i}") is not None for i in range(args.fleet)), 300)
            fleet = time.perf_counter() - started
            cost = (_gateway_requests(chapter) - before) / args.fleet
            return {"first": first, "rotation": rotation, "fleet": fleet, "cost": cost}
        finally:
            lab_runtime.down(chapter.settings)


def measure_replay(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-eso-replay-") as directory:
        chapter = _chapter("emulator", directory)
        try:
            store, ca = chapter.secret_store(), chapter.gateway_ca_pem()
            first = []
            for i in range(args.syncs):
                started = time.perf_counter()
                if not eso.sync(chapter.cluster, _external(chapter, f"first-{i}"), store, ca).ok:
                    raise RuntimeError("the replay failed to sync")
                first.append(time.perf_counter() - started)
            before = _gateway_requests(chapter)
            started = time.perf_counter()
            for i in range(args.fleet):
                eso.sync(chapter.cluster, _external(chapter, f"fleet-{i}"), store, ca)
            fleet = time.perf_counter() - started
            cost = (_gateway_requests(chapter) - before) / args.fleet
            return {"first": first, "rotation": [], "fleet": fleet, "cost": cost}
        finally:
            lab_runtime.down(chapter.settings)


def _row(label: str, unit: str, replay: float | None, real: float | None) -> str:
    def cell(value):
        return f"{value:10.2f}" if value is not None else f"{'-':>10}"
    ratio = f"{real / replay:8.1f}x" if replay and real else f"{'-':>9}"
    return f"{label:<44}{cell(replay)}{cell(real)} {unit:<4}{ratio}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--syncs", type=int, default=20, help="first syncs timed per side (>= 20 for a p95)")
    parser.add_argument("--fleet", type=int, default=100, help="ExternalSecrets created at once")
    parser.add_argument("--rotations", type=int, default=5, help="rotations timed (real only)")
    args = parser.parse_args(argv)
    saved_dir = os.environ.get("WORKSHOP_LAB_DIR")

    real_built = apiserver.real_stack_available()
    if not real_built:
        print("real stack: skipped, not built (run `make real`)")
    cold = {"emulator": _cold_start("emulator"), "apiserver": _cold_start("apiserver") if real_built else None}
    replay = measure_replay(args)
    real = measure_real(args) if real_built else None
    if saved_dir is None:
        os.environ.pop("WORKSHOP_LAB_DIR", None)

    def get(result, key, fn=None):
        if not result or result.get(key) in (None, []):
            return None
        return fn(result[key]) if fn else result[key]

    print(f"\nESO: the real controller vs the replay ({args.syncs} first syncs, {args.fleet} at once, "
          f"{args.rotations} rotations at refreshInterval {REFRESH:.0f} s)")
    print(f"{'':<44}{'replay':>10}{'real ESO':>10}      real/replay")
    print(_row("cold start to ready (emulator lab vs real stack)", "s", cold["emulator"], cold["apiserver"]))
    print(_row("applied -> Secret present, median", "ms", get(replay, "first", lambda v: 1000 * statistics.median(v)),
               get(real, "first", lambda v: 1000 * statistics.median(v))))
    print(_row("applied -> Secret present, p95", "ms", get(replay, "first", lambda v: 1000 * p95(v)),
               get(real, "first", lambda v: 1000 * p95(v))))
    print(_row(f"{args.fleet} ExternalSecrets until all synced", "s", get(replay, "fleet"), get(real, "fleet")))
    print(_row("gateway requests per sync", "req", get(replay, "cost"), get(real, "cost")))
    if real and real["rotation"]:
        median = statistics.median(real["rotation"])
        print(f"rotation: value changed -> Secret updated, median {median:.2f} s, max {max(real['rotation']):.2f} s "
              f"at refreshInterval {REFRESH:.0f} s (the value changes right after a sync, so the whole interval "
              f"is the expected wait): {max(real['rotation']) - REFRESH:+.2f} s beyond it at worst; "
              "the replay has no schedule")
    return 0


if __name__ == "__main__":
    sys.exit(main())
