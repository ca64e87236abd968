"""The lab's Akeyless gateway / SaaS emulator.

Contract with the lab process (helpers/lab/server.py): `create_app(ctx: LabContext) -> aiohttp.web.Application`.
"""
from aiohttp import web


def create_app(ctx) -> web.Application:
    return web.Application()
