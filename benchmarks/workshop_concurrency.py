"""A room at once: N attendees run chapter 2 concurrently against one lab (N = 1, 4, 8 by default), side by
side in one run: the wall time of each chapter run against the solo run, the errors, and the lab's
request latency (p50/p99) seen by a probe while the room works.

    .venv/bin/python benchmarks/workshop_concurrency.py [--rooms 1,4,8] [--kube emulator|apiserver|both]

Each attendee runs `python -m papermill notebooks/02_kubernetes_auth.ipynb -f <their parameters.yaml>` in
its own process (its own kernel), as in a room where each person runs their notebook. The probe is a
client of its own, timing two cheap calls in turn every 100 ms: a Kubernetes GET of a namespace (through
the official client) and an Akeyless get-secret-value of the benchmark's own item (through the official SDK).
CPU per run (papermill and its kernel, from getrusage) and the lab process's CPU say whether the machine's
cores or the lab are the limit. Aim: 8 attendees at once cost
each under 2x the solo time, with zero errors.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import akeyless_client as ak  # noqa: E402
from helpers import lab as lab_runtime  # noqa: E402
from helpers import workshop  # noqa: E402
from helpers.config import Settings  # noqa: E402
from helpers.lab import apiserver  # noqa: E402
from helpers.workshop import provision  # noqa: E402
from helpers.workshop import roster as rs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROBE_ITEM = "/bench/probe"         # the benchmark's own secret: no chapter run touches it


class Probe(threading.Thread):
    """Times one request every `period` seconds until stopped: the latency an attendee's next cell sees."""

    def __init__(self, conn: provision.Connections, attendee: rs.Attendee, period: float = 0.1):
        super().__init__(daemon=True)
        self.conn, self.attendee, self.period = conn, attendee, period
        self.samples: list[float] = []
        self.errors = 0
        self.first_error = ""
        self.done = threading.Event()

    def run(self) -> None:
        calls = (lambda: self.conn.cluster.core.read_namespace(self.attendee.namespace),
                 lambda: ak.get_secret_value(self.conn.akeyless, PROBE_ITEM))
        turn = 0
        while not self.done.wait(self.period):
            start = time.perf_counter()
            try:
                calls[turn % 2]()
                self.samples.append(time.perf_counter() - start)
            except Exception as exc:  # counted and the first kept: a stopped lab must not hang the run
                self.errors += 1
                self.first_error = self.first_error or f"{type(exc).__name__}: {exc}"
            turn += 1


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _room(settings: Settings, conn, attendees: list, out: Path) -> tuple:
    """Run the chapter for each attendee at once: (per-run seconds, failed runs, probe samples, probe errors,
    (CPU seconds per chapter run, its kernel included; CPU seconds the lab process spent))."""
    for a in attendees:          # each starts from the baseline, as after `workshop up`
        workshop.reset(settings, a.id)
    probe = Probe(conn, attendees[0])
    env = {**os.environ, "WORKSHOP_LAB_DIR": str(settings.lab_dir)}
    lab_process = psutil.Process(lab_runtime.info(settings).pid)
    lab_cpu, children_cpu = sum(lab_process.cpu_times()[:2]), _children_cpu()
    probe.start()
    runs = []
    for a in attendees:
        cmd = [sys.executable, "-m", "papermill", str(provision.CHAPTER), str(out / f"{a.id}-{len(attendees)}.ipynb"),
               "-f", str(rs.attendee_dir(settings.lab_dir, a) / "parameters.yaml"), "--cwd",
               str(provision.CHAPTER.parent), "--no-progress-bar"]
        runs.append((time.perf_counter(), subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                                           stderr=subprocess.PIPE, text=True)))
    seconds, failed = [], 0
    for started, run in runs:
        _, err = run.communicate(timeout=1800)
        seconds.append(time.perf_counter() - started)
        if run.returncode != 0:
            failed += 1
            print(f"  a run failed: {err.strip().splitlines()[-1] if err.strip() else run.returncode}", flush=True)
    probe.done.set()
    probe.join()
    if probe.errors:
        print(f"  probe: {probe.errors} errors, the first: {probe.first_error}", flush=True)
    cpu = ((_children_cpu() - children_cpu) / len(attendees), sum(lab_process.cpu_times()[:2]) - lab_cpu)
    return seconds, failed, probe.samples, probe.errors, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench(kube: str, rooms: list[int]) -> list[tuple]:
    lab_dir = tempfile.mkdtemp(prefix=f"bench-workshop-{kube}-")
    settings = Settings.load(target="lab", lab_dir=lab_dir, kube=kube)
    lab_runtime.up(settings, kube=kube)
    rows = []
    try:
        workshop.up(settings, max(rooms))
        conn = provision.connect(settings)
        ak.create_secret(conn.akeyless, PROBE_ITEM, "probe")
        room = rs.require(settings.lab_dir).attendees
        out = Path(tempfile.mkdtemp(prefix="bench-workshop-out-"))
        solo = None
        for n in rooms:
            seconds, failed, samples, probe_errors, (run_cpu, lab_cpu) = _room(settings, conn, room[:n], out)
            mean = statistics.mean(seconds)
            solo = solo or mean
            rows.append((kube, n, mean, max(seconds), mean / solo, failed, _percentile(samples, 0.5),
                         _percentile(samples, 0.99), len(samples), probe_errors, run_cpu, lab_cpu))
            print(f"  {kube}: {n} at once done ({mean:.1f} s per run)", flush=True)
    finally:
        workshop.down(settings)
        lab_runtime.down(settings)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", default="1,4,8", help="attendee counts, the first being the solo reference")
    parser.add_argument("--kube", choices=["emulator", "apiserver", "both"], default="both")
    args = parser.parse_args()
    rooms = [int(n) for n in args.rooms.split(",")]
    kinds = ["emulator", "apiserver"] if args.kube == "both" else [args.kube]
    rows = []
    for kube in kinds:
        if kube == "apiserver" and not apiserver.available():
            print("apiserver: skipped (the real kube-apiserver is not built: make apiserver)")
            continue
        rows += bench(kube, rooms)
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'stack':<10} {'N':>3} {'s/run':>7} {'slowest':>8} {'x solo':>7} {'failed':>7} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'probes':>7} {'probe err':>9} {'CPU s/run':>9} {'lab CPU s':>9}")
    for kube, n, mean, slowest, ratio, failed, p50, p99, count, perr, run_cpu, lab_cpu in rows:
        print(f"{kube:<10} {n:>3} {mean:>7.1f} {slowest:>8.1f} {ratio:>7.2f} {failed:>7} {p50:>7.1f} {p99:>7.1f} "
              f"{count:>7} {perr:>9} {run_cpu:>9.1f} {lab_cpu:>9.1f}")
    worst = [r for r in rows if r[1] == max(rooms)]
    for kube, n, mean, slowest, ratio, failed, *_ in worst:
        verdict = "met" if ratio < 2 and failed == 0 else "NOT met"
        print(f"aim ({kube}, {n} attendees under 2x solo, zero errors): {verdict} ({ratio:.2f}x, {failed} failed)")
    return 1 if any(r[5] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
