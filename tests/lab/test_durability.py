"""Durability and concurrency of the whole lab: writers on both emulators while the lab process is SIGKILLed
and restarted, then a concurrency soak of mixed reads and writes. Every acknowledged write survives; no
answer is a 5xx. The figures are printed (run with -s) for the lab notes."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from tests.lab.fuzzing import Wire

pytestmark = pytest.mark.skipif(os.environ.get("WORKSHOP_LAB_KUBE", "emulator") != "emulator",
                                reason="lab-only: kills the lab process, whose storage is the emulators' journals")

KILLS = 5
WRITERS = 4
NS = "durable"


def _admin_token(wire: Wire, creds: dict) -> str:
    code, text = wire.send("POST", "/auth", json.dumps({"access-id": creds["access_id"],
                                                        "access-key": creds["access_key"]}).encode(),
                           {"Content-Type": "application/json"})
    assert code == 200, text
    return json.loads(text)["token"]


class Writers:
    """Threads that each write uniquely named objects until stopped, recording what was acknowledged."""

    def __init__(self, settings: Settings, creds: dict):
        self.settings, self.creds = settings, creds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.figures = {"tried": 0, "acknowledged": 0, "5xx": 0, "connection errors": 0}
        self.kube_names: list[str] = []
        self.secret_names: list[str] = []

    def _count(self, key: str, name: str | None = None, into: list | None = None) -> None:
        with self.lock:
            self.figures[key] += 1
            if into is not None:
                into.append(name)

    def kube(self, n: int) -> None:
        wire, url = None, None
        while not self.stop.is_set():
            try:
                info = lab_runtime.info(self.settings)
                if wire is None or url != info.kube_url:
                    wire, url = Wire(info.kube_url, str(info.ca_cert)), info.kube_url
                name = f"w{n}-{uuid.uuid4().hex[:10]}"
                body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"n": str(n)}}
                self._count("tried")
                code, _ = wire.send("POST", f"/api/v1/namespaces/{NS}/configmaps", json.dumps(body).encode(), {
                    "Authorization": f"Bearer {info.admin_token}", "Content-Type": "application/json"})
                if code >= 500:
                    self._count("5xx")
                elif code == 201:
                    self._count("acknowledged", name, self.kube_names)
            except Exception:  # noqa: BLE001 - the lab is being killed: not acknowledged, try again
                self._count("connection errors")
                wire = None
                time.sleep(0.05)

    def akeyless(self, n: int) -> None:
        wire, token, url = None, None, None
        while not self.stop.is_set():
            try:
                info = lab_runtime.info(self.settings)
                if wire is None or url != info.akeyless_url:
                    wire, url = Wire(info.akeyless_url, str(info.ca_cert)), info.akeyless_url
                    token = _admin_token(wire, self.creds)
                name = f"/durable/w{n}-{uuid.uuid4().hex[:10]}"
                self._count("tried")
                code, _ = wire.send("POST", "/create-secret", json.dumps({"name": name, "value": name,
                                                                          "token": token}).encode(),
                                    {"Content-Type": "application/json"})
                if code >= 500:
                    self._count("5xx")
                elif code == 200:
                    self._count("acknowledged", name, self.secret_names)
            except Exception:  # noqa: BLE001 - as above
                self._count("connection errors")
                wire = None
                time.sleep(0.05)


@pytest.fixture
def own_lab(tmp_path):
    settings = Settings.load(target="lab", lab_dir=str(tmp_path / "lab"), kube="emulator")
    yield settings
    lab_runtime.down(settings)


def test_acknowledged_writes_survive_sigkills(own_lab):
    info = lab_runtime.up(own_lab)
    kube = Wire(info.kube_url, str(info.ca_cert))
    admin = {"Authorization": f"Bearer {info.admin_token}", "Content-Type": "application/json"}
    assert kube.send("POST", "/api/v1/namespaces", json.dumps({"metadata": {"name": NS}}).encode(), admin)[0] == 201
    writers = Writers(own_lab, info.akeyless_admin())
    threads = [threading.Thread(target=writers.kube if i % 2 else writers.akeyless, args=(i,))
               for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    restarts = []
    try:
        for _ in range(KILLS):
            time.sleep(1.0)
            pid = lab_runtime.info(own_lab).pid
            process = psutil.Process(pid)
            os.kill(pid, signal.SIGKILL)
            process.wait(10)
            started = time.monotonic()
            lab_runtime.up(own_lab)
            restarts.append(time.monotonic() - started)
        time.sleep(1.0)
    finally:
        writers.stop.set()
        for thread in threads:
            thread.join(30)

    info = lab_runtime.info(own_lab)
    kube = Wire(info.kube_url, str(info.ca_cert))
    code, text = kube.send("GET", f"/api/v1/namespaces/{NS}/configmaps", b"", admin | {"Authorization":
                                                                                       f"Bearer {info.admin_token}"})
    stored = {item["metadata"]["name"] for item in json.loads(text)["items"]}
    gateway = Wire(info.akeyless_url, str(info.ca_cert))
    token = _admin_token(gateway, info.akeyless_admin())
    code, text = gateway.send("POST", "/list-items", json.dumps({"path": "/durable", "token": token}).encode(),
                              {"Content-Type": "application/json"})
    secrets = {item["item_name"] for item in json.loads(text)["items"] or []}
    lost = [n for n in writers.kube_names if n not in stored] + [n for n in writers.secret_names if n not in secrets]
    figures = dict(writers.figures, kills=KILLS, lost=len(lost),
                   restart_median_s=round(sorted(restarts)[len(restarts) // 2], 2))
    print(f"\nSIGKILL durability: {figures}")
    assert writers.figures["acknowledged"] > 0 and writers.figures["5xx"] == 0 and not lost, figures


def test_concurrency_soak(lab):
    """Mixed reads and writes from 8 threads on both emulators of the session lab: no error, no 5xx."""
    threads, rounds = 8, 60
    creds = lab.akeyless_admin()
    figures = {"requests": 0, "5xx": 0, "errors": 0}
    lock = threading.Lock()
    ns = f"soak-{uuid.uuid4().hex[:6]}"
    admin = {"Authorization": f"Bearer {lab.admin_token}", "Content-Type": "application/json"}
    Wire(lab.kube_url, str(lab.ca_cert)).send("POST", "/api/v1/namespaces",
                                              json.dumps({"metadata": {"name": ns}}).encode(), admin)

    def worker(n: int) -> None:
        kube, gateway = Wire(lab.kube_url, str(lab.ca_cert)), Wire(lab.akeyless_url, str(lab.ca_cert))
        token = _admin_token(gateway, creds)
        for i in range(rounds):
            name = f"s{n}-{i}"
            calls = [
                (kube, "POST", f"/api/v1/namespaces/{ns}/configmaps",
                 {"metadata": {"name": name}, "data": {"i": str(i)}}, admin),
                (kube, "GET", f"/api/v1/namespaces/{ns}/configmaps", None, admin),
                (gateway, "POST", "/create-secret", {"name": f"/{ns}/{name}", "value": "v", "token": token}, {}),
                (gateway, "POST", "/get-secret-value", {"names": [f"/{ns}/{name}"], "token": token}, {}),
            ]
            for wire, method, path, body, headers in calls:
                code, _ = wire.send(method, path, json.dumps(body).encode() if body else b"",
                                    {"Content-Type": "application/json", **headers})
                with lock:
                    figures["requests"] += 1
                    figures["5xx"] += code >= 500
                    figures["errors"] += code >= 400

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    print(f"\nconcurrency soak: {figures}")
    assert figures == {"requests": threads * rounds * 4, "5xx": 0, "errors": 0}
