"""Static files: served by WhiteNoise, compressed, cached for a year under versioned URLs.

Every `url_for('static', ...)` gets `?v=<content hash>`, so a browser keeps a file until it
changes; the gzip copies are made once by `make` (`python -m whitenoise.compress static`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from whitenoise import WhiteNoise

ONE_YEAR = 365 * 24 * 3600


def static_headers(headers: Any, path: str, url: str) -> None:
    """The security headers of the portal's own responses (WhiteNoise answers before Flask)."""
    from app.web.headers import CSP

    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"


MAX_URLS = 20_000  # URLs kept per process (the nav, static files, the rows' links)


class Portal(Flask):
    """Flask, with each URL built once per process (#21).

    A page builds dozens of URLs (the stylesheets and scripts, the icon sprite of every icon, the
    navigation, a link per row), each through the URL map and, for static files, the
    content-hash default above. A URL depends only on its endpoint, its values and where the
    portal is mounted (the script root): the only URL default is that content hash, which
    changes only with a new release (in debug nothing is kept). External URLs, anchors and
    values that cannot be a key are built each time.
    """

    _urls: dict[tuple[str, str, tuple[tuple[str, type, Any], ...]], str]

    def url_for(  # type: ignore[override]
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        plain = _anchor is None and _method is None and _scheme is None and not _external
        if not plain or self.debug or not has_request_context():
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        try:
            # The type too: 1 and True are equal keys but not the same URL.
            key = (
                request.script_root,
                endpoint,
                tuple(sorted((k, type(v), v) for k, v in values.items())),
            )
            hash(key)
        except TypeError:  # a list of values (?stato=a&stato=b): built each time
            return super().url_for(endpoint, **values)
        urls = self.__dict__.setdefault("_urls", {})
        url = urls.get(key)
        if url is None:
            url = super().url_for(endpoint, **values)
            if len(urls) >= MAX_URLS:
                urls.clear()
            urls[key] = url
        return url


def register_static(app: Flask) -> None:
    root = Path(app.static_folder or "static")

    @cache
    def version(filename: str) -> str:
        try:
            return hashlib.sha256((root / filename).read_bytes()).hexdigest()[:12]
        except OSError:
            return ""

    @app.url_defaults
    def versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            tag = version(values["filename"])
            if tag:
                values["v"] = tag

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(root),
        prefix="static/",
        max_age=ONE_YEAR,
        add_headers_function=static_headers,
        autorefresh=app.debug,
    )
