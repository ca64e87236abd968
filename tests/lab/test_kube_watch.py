"""Watch on the lab: events from a resourceVersion, selectors, timeouts, malformed options, 410 Expired once
the window has moved on, and a long watch that never holds up other requests."""
from __future__ import annotations

import asyncio
import json
import ssl
import uuid

import aiohttp
import pytest

from helpers.lab.kube import watch


def _session(lab) -> aiohttp.ClientSession:
    context = ssl.create_default_context(cafile=str(lab.ca_cert))
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {lab.admin_token}"},
                                 connector=aiohttp.TCPConnector(ssl=context))


async def _lines(response) -> list[dict]:
    return [json.loads(line) for line in (await response.text()).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def ns(lab):
    name = f"watch-{uuid.uuid4().hex[:8]}"

    async def make():
        async with _session(lab) as http:
            async with http.post(f"{lab.kube_url}/api/v1/namespaces", json={"metadata": {"name": name}}) as r:
                assert r.status == 201
    asyncio.run(make())
    return name


def test_events_from_a_resource_version_and_a_watch_that_blocks_nothing(lab, ns):
    base = f"{lab.kube_url}/api/v1/namespaces/{ns}/configmaps"

    async def scenario():
        async with _session(lab) as http:
            async with http.get(base) as r:
                rv = (await r.json())["metadata"]["resourceVersion"]
            # a long watch open while other requests go through: they are not queued behind it
            async with http.get(f"{base}?watch=true&timeoutSeconds=30") as long_watch:
                for name in ("a", "b"):
                    async with http.post(base, json={"metadata": {"name": name}}) as r:
                        assert r.status == 201
                async with http.delete(f"{base}/a") as r:
                    assert r.status == 200
                first = json.loads(await long_watch.content.readline())
            async with http.get(f"{base}?watch=true&resourceVersion={rv}&timeoutSeconds=1") as replay:
                events = await _lines(replay)
            async with http.get(f"{base}?watch=1&resourceVersion={rv}&timeoutSeconds=1&"
                                "fieldSelector=metadata.name%3Db") as selected:
                only_b = await _lines(selected)
        return first, events, only_b

    first, events, only_b = asyncio.run(scenario())
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] in ("a", "b", "kube-root-ca.crt")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a"), ("ADDED", "b"),
                                                                              ("DELETED", "a")]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in only_b] == [("ADDED", "b")]


@pytest.mark.parametrize("query, code, reason", [
    ("resourceVersionMatch=Exact&resourceVersion=5", 422, "Invalid"),
    ("sendInitialEvents=true", 422, "Invalid"),
])
def test_malformed_watch_options_are_refused_as_upstream(lab, ns, query, code, reason):
    async def call():
        async with _session(lab) as http:
            async with http.get(f"{lab.kube_url}/api/v1/namespaces/{ns}/secrets?watch=true&{query}") as r:
                return r.status, await r.json()
    status, body = asyncio.run(call())
    assert (status, body["reason"], body["details"]["kind"]) == (code, reason, "ListOptions")


def test_the_window_expires_old_resource_versions():
    hub = watch.WatchHub(current_rv=10, capacity=3)
    for rv in range(11, 16):
        hub.record(watch.Change(rv, "ADDED", ("", "configmaps", "ns", f"c{rv}"), {"metadata": {}}))
    assert [c.rv for c in hub.since(13)] == [14, 15]
    with pytest.raises(watch.Expired) as caught:
        hub.since(11)
    assert caught.value.status["code"] == 410 and caught.value.status["reason"] == "Expired"
    assert caught.value.status["message"] == "too old resource version: 11 (12)"


def test_bookmarks_every_minute_and_two_seconds_before_the_end():
    assert watch.next_bookmark(now=0, deadline=600) == 60
    assert watch.next_bookmark(now=0, deadline=30) == 28
    assert watch.next_bookmark(now=0, deadline=1) == 1          # too short for one: the deadline comes first
