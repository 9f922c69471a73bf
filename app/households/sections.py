"""The household page composed from the domains' own sections.

The page (`households.detail`) shows the household's own data; referrals, projects, placements,
risk cases and distributions are rendered by their own package as an htmx fragment
(`<domain>/household_section.py`), which the page loads with `hx-get` and a plain link as the
fallback without JavaScript. So `households` does not import the domains built on it: they import
this module instead. Each fragment loads the household through the same policy as the page
(out of scope → 404) and writes its own audit event, as every response showing personal data does.

The buttons a domain adds to the page's header (propose a placement, open a risk case) are
contributed the same way, through `header_action`, evaluated when the page renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response
from flask_login import current_user

from app.audit.operations import commit_view, record_views
from app.households.models import Household
from app.households.policy import visible_household_or_404
from app.web.htmx import render

SECTION_VIEWED = "household_section_viewed"


@dataclass(frozen=True)
class HeaderAction:
    """A button of the household page's header: the label the user reads and where it goes."""

    label: str
    url: str


ActionSource = Callable[[Any, Household], Iterable[HeaderAction]]
_ACTION_SOURCES: list[ActionSource] = []


def header_action(source: ActionSource) -> ActionSource:
    """Register a function (user, household) -> the header buttons it offers (decorator)."""
    _ACTION_SOURCES.append(source)
    return source


def header_actions(user: Any, household: Household) -> list[HeaderAction]:
    return [action for source in _ACTION_SOURCES for action in source(user, household)]


def open_section(household_id: int, section: str) -> Household:
    """The household of a section fragment, in the user's scope (404 otherwise), its view audited
    and committed like the page's (`commit_view` keeps what was loaded)."""
    household = visible_household_or_404(current_user, household_id)
    record_views(SECTION_VIEWED, [household], household, {"section": section})
    commit_view()
    return household


def render_section(template: str, household: Household, title: str, **context: Any) -> Response:
    """The fragment for the page's `hx-get`; the same URL without htmx is a small full page
    (the no-JavaScript fallback link), with the fragment inside it."""
    return render(
        "households/section_page.html",
        fragment=template,
        section_template=template,
        section_title=title,
        household=household,
        **context,
    )
