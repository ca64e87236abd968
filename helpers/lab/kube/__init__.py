"""The lab's Kubernetes API emulator.

Contract with the lab process (helpers/lab/server.py): `create_app(ctx: LabContext) -> aiohttp.web.Application`.
"""
from aiohttp import web


def create_app(ctx) -> web.Application:
    app = web.Application()

    async def ready(request):
        return web.Response(text="ok")

    app.router.add_get("/readyz", ready)
    return app
