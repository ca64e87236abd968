"""Lab start-up and the TokenRequest + TokenReview round trip: emulated Kubernetes API versus the real
kube-apiserver (+ etcd), side by side in one run, with ratios.

    .venv/bin/python benchmarks/lab_startup.py [--starts 3] [--round-trips 50]

What is timed, per mode:
- cold start: `lab up` in a fresh directory (key material generated, empty store) until /readyz;
- warm start: `lab down` then `lab up` on the same directory (keys and state on disk);
- round trip: mint a token for a ServiceAccount (TokenRequest, 600 s, the ESO default) and review it
  (TokenReview), both through the official `kubernetes` client, as the Akeyless gateway would.
The real side is skipped, with a message, when tools/k8s/build.sh has not been run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubernetes import client, config  # noqa: E402

from helpers import lab as lab_runtime  # noqa: E402
from helpers.config import Settings  # noqa: E402
from helpers.errors import LabError  # noqa: E402
from helpers.lab import apiserver  # noqa: E402

NAMESPACE, ACCOUNT = "bench", "bench-sa"


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _api(info) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(info.kubeconfig))


def _ensure_account(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    for create in (lambda: core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))),
                   lambda: core.create_namespaced_service_account(
                       NAMESPACE, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=ACCOUNT)))):
        try:
            create()
        except client.ApiException as exc:
            if exc.status != 409:
                raise


def _round_trips(info, count: int) -> list[float]:
    api = _api(info)
    _ensure_account(api)
    core, authn = client.CoreV1Api(api), client.AuthenticationV1Api(api)
    audience = "https://kubernetes.default.svc.cluster.local"
    samples = []
    for _ in range(count + 3):            # 3 warm-up calls: connection set-up is not the round trip
        started = time.perf_counter()
        minted = core.create_namespaced_service_account_token(ACCOUNT, NAMESPACE, client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[audience], expiration_seconds=600)))
        review = authn.create_token_review(client.V1TokenReview(
            spec=client.V1TokenReviewSpec(token=minted.status.token, audiences=[audience])))
        samples.append(time.perf_counter() - started)
        if not review.status.authenticated:
            raise RuntimeError(f"TokenReview rejected a fresh token: {review.status.error}")
    api.close()
    return samples[3:]


def measure(mode: str, starts: int, round_trips: int) -> dict:
    cold, warm = [], []
    rt: list[float] = []
    for attempt in range(starts):
        with tempfile.TemporaryDirectory(prefix=f"bench-lab-{mode}-") as directory:
            settings = Settings.load(target="lab", lab_dir=str(Path(directory) / "lab"), kube=mode)
            try:
                started = time.perf_counter()
                info = lab_runtime.up(settings)
                cold.append(time.perf_counter() - started)
                lab_runtime.down(settings)
                started = time.perf_counter()
                info = lab_runtime.up(settings)
                warm.append(time.perf_counter() - started)
                if attempt == 0:
                    rt = _round_trips(info, round_trips)
            finally:
                lab_runtime.down(settings)
    return {"cold": cold, "warm": warm, "rt": rt}


def _row(label: str, unit: str, emu: float | None, real: float | None) -> str:
    def cell(value):
        return f"{value:10.1f}" if value is not None else f"{'-':>10}"
    ratio = f"{real / emu:8.1f}x" if emu and real else f"{'-':>9}"
    return f"{label:<34}{cell(emu)}{cell(real)} {unit:<3}{ratio}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="lab starts per mode (cold + warm each)")
    parser.add_argument("--round-trips", type=int, default=50, help="TokenRequest+TokenReview pairs per mode")
    args = parser.parse_args(argv)

    results: dict[str, dict | None] = {}
    for mode in ("emulator", "apiserver"):
        if mode == "apiserver" and not apiserver.available():
            print(f"real kube-apiserver: skipped, binaries not built in {apiserver.bin_dir()} "
                  f"(run `bash tools/k8s/build.sh`)")
            results[mode] = None
            continue
        try:
            results[mode] = measure(mode, args.starts, args.round_trips)
        except (LabError, client.ApiException, RuntimeError) as exc:
            print(f"{mode}: failed, not measured: {exc}")
            results[mode] = None

    emu, real = results["emulator"], results["apiserver"]

    def stat(result, key, fn):
        return _ms(fn(result[key])) if result and result[key] else None

    def p95(values):
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(f"\nlab start-up and token round trip ({args.starts} starts, {args.round_trips} round trips per mode)")
    print(f"{'':<34}{'emulated':>10}{'real':>10}     real/emulated")
    for label, key, fn in (("cold start to ready, median", "cold", statistics.median),
                           ("warm restart to ready, median", "warm", statistics.median),
                           ("TokenRequest+TokenReview, median", "rt", statistics.median),
                           ("TokenRequest+TokenReview, p95", "rt", p95)):
        print(_row(label, "ms", stat(emu, key, fn), stat(real, key, fn)))
    return 0 if emu or real else 1


if __name__ == "__main__":
    sys.exit(main())
