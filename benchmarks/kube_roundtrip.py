"""Kubernetes API emulator: lab cold start and TokenRequest + TokenReview round trip, each beside a floor
measured in the same run.

    .venv/bin/python benchmarks/kube_roundtrip.py [--starts 5] [--rounds 300]

- cold start: `helpers.lab.up()` on an empty directory (key generation included) until /readyz answers;
  floor: a bare Python process importing the lab's heavy dependencies (aiohttp, cryptography, PyJWT).
- round trip: TokenRequest (admin) then TokenReview (an auth-delegator ServiceAccount's JWT), over two
  keep-alive HTTPS connections; floor: GET /version on the same server and connection.
Aims (not asserted): cold start < 1.5 s, round trip < 10 ms median on 2 cores.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import lab as lab_runtime  # noqa: E402
from helpers.config import Settings  # noqa: E402


@contextlib.contextmanager
def emulator_lab():
    """A fresh emulator lab in a temporary directory, for the length of the block; its LabInfo."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(target="lab", lab_dir=tmp, kube="emulator")
        info = lab_runtime.up(settings)
        try:
            yield info
        finally:
            lab_runtime.down(settings)


def cold_starts(count: int) -> list[float]:
    times = []
    for _ in range(count):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.load(target="lab", lab_dir=tmp, kube="emulator")
            start = time.perf_counter()
            lab_runtime.up(settings)
            times.append(time.perf_counter() - start)
            lab_runtime.down(settings)
    return times


def import_floor(count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import aiohttp, jwt, cryptography.x509"], check=True)
        times.append(time.perf_counter() - start)
    return times


class Conn:
    def __init__(self, info, token: str):
        url = urlparse(info.kube_url)
        context = ssl.create_default_context(cafile=str(info.ca_cert))
        self.conn = http.client.HTTPSConnection(url.hostname, url.port, context=context)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None, content_type: str = "application/json") -> dict:
        self.conn.request(method, path, json.dumps(body) if body is not None else None,
                          dict(self.headers, **{"Content-Type": content_type}))
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data)


def roundtrips(info, rounds: int) -> tuple[list[float], list[float]]:
    admin = Conn(info, info.admin_token)
    ns = "bench"
    try:
        admin.call("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    except RuntimeError:
        pass
    for name in ("app", "reviewer"):
        try:
            admin.call("POST", f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": name}})
        except RuntimeError:
            pass
    try:
        admin.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "metadata": {"name": "bench-reviewer"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
            "subjects": [{"kind": "ServiceAccount", "name": "reviewer", "namespace": ns}]})
    except RuntimeError:
        pass
    reviewer_token = admin.call("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/reviewer/token",
                                {"spec": {"expirationSeconds": 86400}})["status"]["token"]
    reviewer = Conn(info, reviewer_token)
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"audiences": ["akeyless"], "expirationSeconds": 600}}

    def one_round() -> None:
        token = admin.call("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/app/token", request)["status"]["token"]
        status = reviewer.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
            "spec": {"token": token, "audiences": ["akeyless"]}})["status"]
        assert status.get("authenticated") is True, status

    floor, rt = [], []
    for _ in range(20):                       # warm up both paths and connections
        one_round()
        admin.call("GET", "/version")
    for _ in range(rounds):                   # interleaved so both see the same machine load
        start = time.perf_counter()
        admin.call("GET", "/version")
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        one_round()
        rt.append(time.perf_counter() - start)
    return floor, rt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    starts, floor_starts = cold_starts(args.starts), import_floor(args.starts)
    with emulator_lab() as info:
        floor, rt = roundtrips(info, args.rounds)

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    print(f"{'measurement':44} {'median':>10} {'floor':>10} {'ratio':>7}  aim")
    print(f"{'lab cold start (empty dir, keys included)':44} {ms(starts):8.1f}ms {ms(floor_starts):8.1f}ms "
          f"{ms(starts) / ms(floor_starts):6.1f}x  < 1500 ms")
    print(f"{'TokenRequest + TokenReview round trip':44} {ms(rt):8.2f}ms {ms(floor):8.2f}ms "
          f"{ms(rt) / ms(floor):6.1f}x  < 10 ms")
    print(f"(cold start floor: python importing aiohttp+jwt+cryptography; round-trip floor: GET /version, "
          f"same server and keep-alive connection; {args.starts} starts, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
