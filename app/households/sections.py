"""The household page composed from the domains' own sections.

The page (`households.detail`) shows the household's own data; referrals, projects, placements,
risk cases and distributions are rendered by their own package as an htmx fragment
(`<domain>/household_section.py`), which the page loads with `hx-get` and a plain link as the
fallback without JavaScript. So `households` does not import the domains built on it: they import
this module instead. Each domain declares its section with `household_section` (what it lists);
the route, loading the household through the same policy as the page (out of scope → 404), its
audit event (as every response showing personal data writes) and the rendering are this
module's, the same for all.

The buttons a domain adds to the page's header (propose a placement, open a risk case) are
contributed the same way, through `header_action`, evaluated when the page renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import Select

from app.audit.operations import commit_view, record_views
from app.auth.policy import roles_required
from app.extensions import db
from app.households.models import Household
from app.households.policy import USERS, visible_household_or_404
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


SECTION_ROWS = 50  # the newest rows a section lists; the domain's own page has the rest


@dataclass(frozen=True)
class Rows:
    """What a section lists: the household's rows of a domain's scoped select (`scoped(user)`,
    the domain's own policy), the latest by `newest_by` first (then by id), at most `limit`."""

    scoped: Callable[[Any], Select[Any]]
    model: Any  # the listed model: it has `household_id`, `id` and the `newest_by` column
    options: tuple[Any, ...] = ()
    newest_by: str = "created_at"
    limit: int = SECTION_ROWS

    def of(self, user: Any, household: Household) -> list[Any]:
        model = self.model
        query = (
            self.scoped(user)
            .where(model.household_id == household.id)
            .options(*self.options)
            .order_by(getattr(model, self.newest_by).desc(), model.id.desc())
            .limit(self.limit)
        )
        return list(db.session.scalars(query))


def household_section(
    bp: Blueprint, title: LazyString, rows: Mapping[str, Rows], **context: Any
) -> None:
    """Declare `bp`'s section of the household page, the whole of it: `GET
    /<bp>/household/<id>` (endpoint `<bp>.household_section`) for the household page's users
    opens the household in the user's scope (404 otherwise), audits the view as section
    `<bp>`, and renders `<bp>/_household_section.html` with each of `rows` listed for the user
    and the `context` (the domain's vocabulary)."""
    section = bp.name

    @roles_required(*USERS)
    def view(household_id: int) -> Response:
        household = open_section(household_id, section)
        listed = {name: listing.of(current_user, household) for name, listing in rows.items()}
        return render_section(
            f"{section}/_household_section.html", household, str(title), **listed, **context
        )

    bp.add_url_rule("/household/<int:household_id>", "household_section", view, methods=["GET"])
