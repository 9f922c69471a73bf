"""Full page or fragment: the one place that decides."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request, url_for


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page.

    Boosted navigation and history restore (Back button) need the whole page, or the browser
    would show a lone fragment.
    """
    return (
        is_htmx()
        and request.headers.get("HX-Request-Type", "partial") == "partial"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    page_template: str, fragment: str | None = None, status: int = 200, **context: Any
) -> Response:
    """Render `fragment` for a partial htmx request, else the full page (which includes it)."""
    template = fragment if fragment is not None and wants_fragment() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Request-Type")
    return response


def push_url(response: Response, endpoint: str, **values: Any) -> Response:
    """Have htmx show `url_for(endpoint, **values)` in the address bar after it swaps a list's
    fragment, so that the filtered list can be bookmarked, shared and reached with Back."""
    response.headers["HX-Push-Url"] = url_for(endpoint, **values)
    return response
