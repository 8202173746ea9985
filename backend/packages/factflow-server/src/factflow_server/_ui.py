"""The web UI and the API docs, served from files inside the installed packages.

The UI is a static single-page build (``frontend/`` in the repository, built by
``./dev setup`` into ``factflow_server/_ui/``).  Its pages are client-side
routes, so every page URL answers with the same ``index.html`` (SPA fallback);
hashed assets under ``/assets/`` are cached for good.  Without a build the
server runs as before and ``/`` says how to build the UI.

The API docs (``/docs``: Swagger UI, ``/redoc``: ReDoc) load their scripts from
this server (the ``fastapi-offline`` package ships them), never from a CDN.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["UI_DIR", "UI_PAGES", "install_docs", "install_ui", "is_ui_path"]

#: Where the build lands (git-ignored; packaged with the server's wheel).
UI_DIR: Final = Path(__file__).with_name("_ui")

#: The UI's page routes (first path segment).  Only these, ``/`` and the
#: static files answer with the UI, so unknown paths stay 404 problems and
#: nothing under ``/api`` is ever shadowed.
UI_PAGES: Final = frozenset({"executions", "configs", "schedules", "login"})
_STATIC_FILES: Final = frozenset({"/favicon.svg", "/robots.txt"})
_ASSETS: Final = "/assets/"
_DOCS_ASSETS: Final = "/docs/assets"
_IMMUTABLE: Final = "public, max-age=31536000, immutable"
# index.html names the current hashed assets: always revalidate it.
_NO_CACHE: Final = {"Cache-Control": "no-cache"}

_NOT_BUILT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FactFlow</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}}
code,pre{{background:#8882;padding:.1rem .3rem;border-radius:4px}}
pre{{padding:.8rem}}</style></head>
<body><h1>FactFlow</h1>
<p>The server is running, but its web UI has not been built
(no <code>{where}</code>).</p>
<p>Build it from a source checkout with Node.js 20.19 or newer and npm on the PATH:</p>
<pre>./dev setup</pre>
<p>(or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>), then reload this page.
Until then: the API is at <a href="/api/v1/executions"><code>/api/v1</code></a>, its
interactive docs at <a href="/docs"><code>/docs</code></a>, and the <code>factflow</code>
command drives everything the UI does.</p>
</body></html>
"""


def is_ui_path(path: str) -> bool:
    """Whether ``path`` belongs to the UI shell (pages and static files)."""
    if path == "/" or path.startswith(_ASSETS) or path in _STATIC_FILES:
        return True
    first = path.lstrip("/").split("/", 1)[0]
    return first in UI_PAGES


def _index(ui_dir: Path) -> Response:
    index = ui_dir / "index.html"
    if index.is_file():
        return FileResponse(index, media_type="text/html", headers=_NO_CACHE)
    return HTMLResponse(_NOT_BUILT.format(where=html.escape(str(index))), headers=_NO_CACHE)


class _ImmutableStatic(StaticFiles):
    """Static files whose names carry a content hash: cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = _IMMUTABLE
        return response


def install_ui(app: FastAPI, ui_dir: Path = UI_DIR) -> None:
    """Serve the UI at ``/`` and its page routes (registered after the API)."""
    assets = ui_dir / "assets"
    if assets.is_dir():
        app.mount(_ASSETS.rstrip("/"), _ImmutableStatic(directory=assets), name="ui-assets")

    async def page(request: Request) -> Response:
        path = request.url.path
        if path in _STATIC_FILES:
            target = ui_dir / path.lstrip("/")
            if not target.is_file():
                raise HTTPException(404, f"no file {path}")
            return FileResponse(target)
        return _index(ui_dir)

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    for static in sorted(_STATIC_FILES):
        app.add_api_route(static, page, methods=["GET"], include_in_schema=False)
    for name in sorted(UI_PAGES):
        app.add_api_route(f"/{name}", page, methods=["GET"], include_in_schema=False)
        app.add_api_route(f"/{name}/{{rest:path}}", page, methods=["GET"], include_in_schema=False)


def install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their assets served locally.

    The app must be created with ``docs_url=None, redoc_url=None``.
    """
    static = files("fastapi_offline") / "static"
    app.mount(_DOCS_ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - docs",
            swagger_js_url=f"{_DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_DOCS_ASSETS}/favicon.png",
            # No badge that asks validator.swagger.io about the document.
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{_DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{_DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.add_api_route("/docs", swagger, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
