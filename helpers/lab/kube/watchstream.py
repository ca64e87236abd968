"""One watch's HTTP response: the changes of the watch window (watch.py) as JSON lines."""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from . import watch
from .resources import Resource
from .selectors import select
from .tables import table, wants_table
from .wire import wire_order


class WatchStream:
    """One watch's response: events as JSON lines, filtered to the watched resource, namespace and selectors,
    as Tables when kubectl asked for them (column definitions in the first event only)."""

    def __init__(self, api, request: web.Request, resource: Resource, namespace: str | None,
                 labels: str, fields: str):
        self.api, self.request, self.resource, self.namespace = api, request, resource, namespace
        self.labels, self.fields = labels, fields
        self.as_table = wants_table(request.headers.get("Accept", ""))
        self.first = True
        self.response = web.StreamResponse(headers={"Content-Type": "application/json",
                                                    "Cache-Control": "no-cache, private"})

    async def start(self) -> None:
        await self.response.prepare(self.request)

    def _matches(self, obj: dict | None) -> bool:
        return obj is not None and bool(select([obj], self.labels, self.fields, self.resource))

    async def change(self, change: watch.Change) -> None:
        group, plural, ns, _ = change.key
        if (group, plural) != self.resource.storage or (self.namespace and ns != self.namespace):
            return
        now, before = self._matches(change.obj), self._matches(change.old)
        kind = change.type
        if kind == "MODIFIED" and not (now and before):
            kind = "ADDED" if now else "DELETED" if before else ""     # moved into or out of the selection
        elif kind == "ADDED" and not now or kind == "DELETED" and not before:
            kind = ""
        if kind:
            await self.write(kind, self.api.registry.present(self.resource, change.obj))

    async def write(self, kind: str, obj: dict, raw: bool = False) -> None:
        if self.as_table and not raw:
            obj = table(self.resource, [obj], obj["metadata"].get("resourceVersion", ""), self.api.ctx.clock.now(),
                        self.api.registry.printable(self.resource))
            obj["metadata"]["resourceVersion"] = obj["rows"][0]["object"]["metadata"].get("resourceVersion", "")
            if not self.first:
                obj["columnDefinitions"] = None
            self.first = False
        line = json.dumps({"type": kind, "object": wire_order(obj)}, separators=(",", ":")) + "\n"
        await self.response.write(line.encode())

    async def bookmark(self, rv: int, initial_end: bool = False) -> None:
        await self.write("BOOKMARK", watch.bookmark(self.resource.kind, self.resource.api_version, rv, initial_end))

    async def follow(self, queue: asyncio.Queue, opts: watch.WatchOptions) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + opts.timeout
        next_bookmark = watch.next_bookmark(loop.time(), deadline) if opts.bookmarks else deadline
        while True:
            wait = min(deadline, next_bookmark) - loop.time()
            if wait <= 0:
                if loop.time() >= deadline:
                    return
                await self.bookmark(int(self.api.store.resource_version))
                next_bookmark = watch.next_bookmark(loop.time(), deadline)
                continue
            try:
                change = await asyncio.wait_for(queue.get(), wait)
            except asyncio.TimeoutError:
                continue
            await self.change(change)
