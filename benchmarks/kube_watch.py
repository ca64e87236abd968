"""Kubernetes API emulator: watch-event latency, and what the added resources cost the token round trip.

    .venv/bin/python benchmarks/kube_watch.py [--rounds 200] [--objects 300] [--watches 10]

- watch-event latency: a ConfigMap create, from sending it until an open watch has its ADDED event; floor:
  the same create's own response time, measured in the same round.
- cost of the added resources: the TokenRequest + TokenReview round trip (benchmarks/kube_roundtrip.py)
  on a bare lab, then with --objects Pods, (headless) Services and Events stored and --watches watches open; the
  pod-bound variant (TokenRequest bound to a Pod, then its review) beside it.
Aims (not asserted): event latency < 2x the write's own; round trip still < 10 ms median with the load.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kube_roundtrip import Conn, roundtrips  # noqa: E402

from helpers import lab as lab_runtime  # noqa: E402
from helpers.config import Settings  # noqa: E402

NS = "bench"


async def event_latency(info, rounds: int) -> tuple[list[float], list[float]]:
    context = ssl.create_default_context(cafile=str(info.ca_cert))
    headers = {"Authorization": f"Bearer {info.admin_token}"}
    base = f"{info.kube_url}/api/v1/namespaces/{NS}/configmaps"
    writes, events = [], []
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=context)) as http:
        async with http.get(base) as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        async with http.get(f"{base}?watch=true&resourceVersion={rv}&timeoutSeconds=600") as stream:
            for i in range(rounds):
                start = time.perf_counter()
                async with http.post(base, json={"metadata": {"name": f"w{i}"}}) as r:
                    assert r.status == 201, await r.text()
                writes.append(time.perf_counter() - start)
                event = json.loads(await stream.content.readline())
                assert event["object"]["metadata"]["name"] == f"w{i}", event
                events.append(time.perf_counter() - start)
    return writes, events


def load(info, objects: int) -> None:
    admin = Conn(info, info.admin_token)
    for i in range(objects):
        admin.call("POST", f"/api/v1/namespaces/{NS}/pods", {"metadata": {"name": f"p{i}"}, "spec": {
            "serviceAccountName": "app", "containers": [{"name": "c", "image": "busybox:1.36"}]}})
        admin.call("POST", f"/api/v1/namespaces/{NS}/services", {"metadata": {"name": f"s{i}"},
                                                                 "spec": {"clusterIP": "None", "ports": [{"port": 80}]}})
        admin.call("POST", f"/api/v1/namespaces/{NS}/events", {"metadata": {"name": f"e{i}"}, "involvedObject": {
            "kind": "Pod", "name": f"p{i}", "namespace": NS}, "reason": "Bench", "message": "x", "type": "Normal"})


def open_watches(info, count: int) -> threading.Event:
    """`count` idle watches on pods, held open in a thread of their own until the returned event is set."""
    done, ready = threading.Event(), threading.Event()

    async def hold():
        context = ssl.create_default_context(cafile=str(info.ca_cert))
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {info.admin_token}"},
                                         connector=aiohttp.TCPConnector(ssl=context, limit=0)) as http:
            streams = [await http.get(f"{info.kube_url}/api/v1/pods?watch=true&timeoutSeconds=600")
                       for _ in range(count)]
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.1)
            for s in streams:
                s.close()

    threading.Thread(target=lambda: asyncio.run(hold()), daemon=True).start()
    ready.wait(60)
    return done


def bound_roundtrips(info, rounds: int) -> list[float]:
    admin = Conn(info, info.admin_token)
    reviewer = admin.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/reviewer/token",
                          {"spec": {"expirationSeconds": 86400}})["status"]["token"]
    reviewer = Conn(info, reviewer)
    request = {"spec": {"audiences": ["akeyless"], "expirationSeconds": 600,
                        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p0"}}}
    times = []
    for i in range(rounds + 20):
        start = time.perf_counter()
        token = admin.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/app/token", request)["status"]["token"]
        status = reviewer.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                               {"spec": {"token": token, "audiences": ["akeyless"]}})["status"]
        assert status.get("authenticated") is True, status
        if i >= 20:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument("--watches", type=int, default=10)
    args = parser.parse_args()

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(target="lab", lab_dir=tmp, kube="emulator")
        info = lab_runtime.up(settings)
        try:
            floor, bare = roundtrips(info, args.rounds)        # creates namespace bench, app and reviewer
            writes, events = asyncio.run(event_latency(info, args.rounds))
            load(info, args.objects)
            done = open_watches(info, args.watches)
            try:
                floor_loaded, loaded = roundtrips(info, args.rounds)
                bound = bound_roundtrips(info, args.rounds)
            finally:
                done.set()
        finally:
            lab_runtime.down(settings)

    print(f"{'measurement':58} {'median':>9} {'floor':>9} {'ratio':>6}  aim")
    print(f"{'watch event latency (create -> ADDED on an open watch)':58} {ms(events):7.2f}ms {ms(writes):7.2f}ms "
          f"{ms(events) / ms(writes):5.2f}x  < 2x the write")
    print(f"{'TokenRequest + TokenReview, bare lab':58} {ms(bare):7.2f}ms {ms(floor):7.2f}ms "
          f"{ms(bare) / ms(floor):5.1f}x  < 10 ms")
    load_label = f"same, {args.objects} pods+services+events, {args.watches} watches"
    print(f"{load_label:58} {ms(loaded):7.2f}ms {ms(floor_loaded):7.2f}ms "
          f"{ms(loaded) / ms(floor_loaded):5.1f}x  < 10 ms")
    print(f"{'pod-bound TokenRequest + TokenReview, same load':58} {ms(bound):7.2f}ms {ms(floor_loaded):7.2f}ms "
          f"{ms(bound) / ms(floor_loaded):5.1f}x  < 10 ms")
    print(f"(floors: the create's own response time; GET /version on the same keep-alive connection; "
          f"{args.rounds} rounds each)")


if __name__ == "__main__":
    main()
