"""Application factory of the "Reti di comunità per l'inclusione" portal."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from flask import Flask, g, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import Config, config_from_env
from app.db import register_sqlite_functions
from app.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: Config | None = None) -> Flask:
    from app.web.static import Portal

    app = Portal(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_object(config or config_from_env())
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # Client address and scheme from the reverse proxy: login throttling per address and
        # Secure cookies depend on them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    from app.web.converters import register_converters

    register_converters(app)
    register_extensions(app)
    from app.shared import init_redis

    init_redis(app)
    from app.jobs import register_jobs

    register_jobs(app)
    register_blueprints(app)
    from app.audit_wiring import register_audit

    register_audit()
    register_versions()
    register_web(app)
    register_cli(app)
    from app.web.static import register_static

    register_static(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def select_locale() -> str:
    """The user's language: Italian unless they chose English; Italian outside requests (CLI)."""
    if not has_request_context():
        return "it"
    language = session.get("lang")
    if language in ("it", "en"):
        return language
    return "it"


def _request_translations() -> object:
    """The request's catalogue, looked up once per request instead of at every `_()`.

    A page calls `_()` hundreds of times; Flask-Babel finds the catalogue again each time.
    """
    return babel.domain_instance.get_translations()


def _babel_context() -> SimpleNamespace | None:
    """Flask-Babel's state for the request (where it keeps the locale).

    Read from the app context's variable rather than through the `g` proxy: this runs for every
    label on a page, and the proxy costs more than the rest of the lookup.
    """
    if not has_request_context():
        return None
    namespace = _cv_app.get().g
    context = getattr(namespace, "_flask_babel", None)
    if context is None:
        context = namespace._flask_babel = SimpleNamespace()
    return context  # type: ignore[no-any-return]


class RequestDomain(Domain):
    """Flask-Babel's domain, with the catalogue looked up once per request.

    The labels of the vocabularies are lazy strings: each is translated where a page shows it,
    through this domain, so a list of 25 rows would otherwise find the catalogue again for every
    status, need and reason it shows.
    """

    def get_translations(self) -> object:  # type: ignore[override]
        context = _babel_context()
        if context is None:
            return super().get_translations()
        # Kept with the locale it is for: the open-data API switches to Italian for a block
        # (force_locale), which puts another Locale object on the context.
        locale = getattr(context, "babel_locale", None) or get_locale()
        cached = getattr(context, "reti_translations", None)
        if cached is not None and cached[0] is locale:
            return cached[1]
        catalogue = super().get_translations()
        context.reti_translations = (locale, catalogue)
        return catalogue


def install_fast_gettext(app: Flask) -> None:
    """The template functions of Flask-Babel, reading the catalogue once per request."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _request_translations().ugettext(s),  # type: ignore[attr-defined]
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),  # type: ignore[attr-defined]
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),  # type: ignore[attr-defined]
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),  # type: ignore[attr-defined]
    )


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    # Replaces the domain Flask-Babel would build on first use (a cached property).
    babel.domain_instance = RequestDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
    install_fast_gettext(app)
    limiter.init_app(app)

    from app.auth.setup import register_auth

    register_auth(app)
    # Import every model so metadata (and Alembic) knows every table.
    from app import models  # noqa: F401


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: object, connection_record: object) -> None:
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout=5000")  # first, so the next pragmas wait too
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL never corrupts the database; it syncs at checkpoints, not at every
    # commit, so the audit event that every view writes does not wait for the disk.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    register_sqlite_functions(dbapi_connection)


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.audit.views import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.cards import bp as cards_bp
    from app.counter import bp as counter_bp
    from app.distributions import bp as distributions_bp
    from app.downloads import bp as downloads_bp
    from app.home import bp as home_bp
    from app.households import bp as households_bp
    from app.housing import bp as housing_bp
    from app.notifications import bp as notifications_bp
    from app.projects import bp as projects_bp
    from app.referrals import bp as referrals_bp
    from app.registry import bp as registry_bp
    from app.reports import bp as reports_bp
    from app.rights import bp as rights_bp
    from app.supplies import bp as supplies_bp
    from app.web import bp as web_bp

    for bp in (
        web_bp,
        auth_bp,
        home_bp,
        admin_bp,
        registry_bp,
        api_bp,
        households_bp,
        rights_bp,
        referrals_bp,
        housing_bp,
        projects_bp,
        reports_bp,
        audit_bp,
        notifications_bp,
        distributions_bp,
        supplies_bp,
        cards_bp,
        counter_bp,
        downloads_bp,
    ):
        app.register_blueprint(bp)


def register_web(app: Flask) -> None:
    from app.admin.models import get_setting
    from app.web.errors import register_error_handlers
    from app.web.formatting import register_filters
    from app.web.headers import register_headers
    from app.web.nav import nav_for

    register_error_handlers(app)
    register_headers(app)
    register_filters(app)
    from app.audit.format import field_label as audit_field_label
    from app.audit.labels import audit_label

    app.jinja_env.globals["audit_label"] = audit_label
    app.jinja_env.globals["audit_field_label"] = audit_field_label
    from app.web.paging import COUNT_CAP

    app.jinja_env.globals["count_cap"] = COUNT_CAP
    from app.registry.models import CIRCOSCRIZIONI

    app.jinja_env.globals["district_options"] = [
        (number, f"{number} · {areas}") for number, areas in CIRCOSCRIZIONI.items()
    ]

    @app.context_processor
    def layout_context() -> dict[str, object]:
        if "demo_data" not in g:
            g.demo_data = bool(get_setting("demo_data", False))
        nav = nav_for(current_user.role) if current_user.is_authenticated else []
        return {
            "unread_notifications": unread_notifications(),
            "nav_items": nav,
            "demo_data": g.demo_data,
            "current_locale": select_locale(),
            "current_endpoint": request.endpoint,
            # The error page of a database that cannot be reached: no login button either.
            "database_unavailable": g.get("database_unavailable", False),
        }


def unread_notifications() -> int | None:
    """The unread badge of the header, for the roles that receive notifications."""
    from app.notifications.operations import unread_count
    from app.notifications.views import RECIPIENTS
    from app.web.versions import versioned

    if not current_user.is_authenticated or not current_user.has_role(*RECIPIENTS):
        return None
    if "unread_notifications" not in g:
        user = current_user._get_current_object()
        g.unread_notifications = versioned(
            "notifications", ("unread", user.id), lambda: unread_count(user)
        )
    return g.unread_notifications


def register_versions() -> None:
    """Which writes change the versions of what the layout keeps (app/web/versions.py)."""
    from app.auth.models import User
    from app.housing.models import HousingUnit, UnitRate
    from app.notifications.models import Notification
    from app.registry.models import Organization
    from app.settings import Setting
    from app.web.versions import register_versioned_model

    register_versioned_model(User, "users")
    register_versioned_model(Organization, "users")  # the user's organization comes with them
    register_versioned_model(Setting, "settings")
    register_versioned_model(Notification, "notifications")
    # The housing board's answers are tagged with these (app/housing/views/board.py).
    register_versioned_model(HousingUnit, "housing")
    register_versioned_model(UnitRate, "housing")


def register_cli(app: Flask) -> None:
    from app.cli import (
        expire_accreditations_command,
        promote_waiting_referrals_command,
        seed_demo_command,
        seed_scale_command,
        send_digests_command,
        send_emails_command,
        send_reminders_command,
        worker_command,
    )

    app.cli.add_command(send_reminders_command)
    app.cli.add_command(send_emails_command)
    app.cli.add_command(send_digests_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_scale_command)
    app.cli.add_command(expire_accreditations_command)
    app.cli.add_command(promote_waiting_referrals_command)

    from app.maintenance.cli import register_maintenance_commands

    register_maintenance_commands(app)
