"""Italian error pages, which also work for htmx requests (an alert in the message area)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import DomainError
from app.extensions import db, login_manager
from app.i18n import gettext as _
from app.web.htmx import is_htmx
from app.web.transactions import committed, database_unreachable, discard_transaction


def N_(text: str) -> str:  # gettext's name for "extract now, translate when shown"
    """Marks a text for the catalogue; `_texts()` translates it when the page is drawn."""
    return text


MESSAGES = {
    400: (N_("Richiesta non valida"), N_("La richiesta non è stata compresa.")),
    403: (N_("Accesso non consentito"), N_("Il tuo ruolo non permette di usare questa pagina.")),
    404: (
        N_("Pagina non trovata"),
        N_("La pagina cercata non esiste o non è tra quelle che puoi vedere."),
    ),
    405: (
        N_("Operazione non consentita"),
        N_("Questa operazione non è disponibile su questa pagina."),
    ),
    409: (N_("Operazione non possibile"), N_("L'operazione non è possibile nello stato attuale.")),
    413: (N_("Dati troppo grandi"), N_("I dati inviati superano la dimensione consentita.")),
    422: (N_("Dati non validi"), N_("Alcuni dati non sono validi: controlla il modulo.")),
    429: (
        N_("Troppi tentativi"),
        N_("Troppe richieste in poco tempo: riprova tra qualche minuto."),
    ),
    500: (N_("Errore del sistema"), N_("Si è verificato un errore imprevisto. Riprova più tardi.")),
    503: (
        N_("Portale non disponibile"),
        N_(
            "Il portale non raggiunge il database: riprova tra qualche minuto; quanto hai "
            "scritto non è stato salvato."
        ),
    ),
}
# Seconds a client (or a proxy) should wait before asking again when the database is away.
RETRY_AFTER_SECONDS = 60


def _texts(code: int) -> tuple[str, str]:
    title, text = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    return _(title), _(text)


def without_database() -> None:
    """Draw the next template without touching the database: the header shows no user (the
    user loader, or a user expired by the commit, would query), no notifications badge, no
    menu, and the demo banner only if it was already known."""
    g._login_user = login_manager.anonymous_user()  # where Flask-Login keeps current_user
    g.demo_data = g.get("demo_data", False)
    g.database_unavailable = True


def _draw(template: str, **context: object) -> str:
    """A template of the error pages; if the database fails while it is drawn (the layout
    reads the user and a setting), drawn again without it."""
    if g.get("database_unavailable"):
        return render_template(template, **context)
    try:
        return render_template(template, **context)
    except SQLAlchemyError:
        discard_transaction()
        without_database()
        return render_template(template, **context)


def _to_messages(response: Response) -> Response:
    # htmx 4 swaps error responses: put the alert in the page's message area instead.
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def error_response(code: int, detail: str | None = None) -> Response:
    title, text = _texts(code)
    if detail:
        text = detail
    if request.path.startswith("/api/"):
        return make_response(jsonify(error=text), code)
    if is_htmx():
        return _to_messages(
            make_response(_draw("errors/_alert.html", code=code, title=title, text=text), code)
        )
    return make_response(_draw("errors/error.html", code=code, title=title, text=text), code)


def unavailable_response() -> Response:
    """503: the database cannot be reached. Drawn without it; for htmx an alert in the message
    area, so the form and what was typed in it stay on screen."""
    without_database()
    if request.endpoint == "web.healthz":
        response = make_response(jsonify(status="error", database="unreachable"), 503)
    else:
        response = error_response(503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _back_url() -> str:
    """The page the user was on (htmx tells it; a form post has the Referer), on this site."""
    from app.web.views import safe_next

    current = request.headers.get("HX-Current-URL") or request.referrer or ""
    parts = urlsplit(current)
    if parts.netloc and parts.netloc != request.host:
        return url_for("home.index")
    back = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(back, url_for("home.index"))


def saved_response() -> Response:
    """The request's change was committed, then drawing the answer failed (typically the
    connection dropped): say it is saved, never "error" (the user would do it again)."""
    without_database()
    title = _("Modifica salvata")
    text = _(
        "La modifica è stata salvata, ma la pagina non si è potuta aggiornare: ricarica la pagina."
    )
    back = _back_url()
    if request.path.startswith("/api/"):
        response = make_response(jsonify(saved=True, message=text), 200)
    elif is_htmx():
        response = _to_messages(
            make_response(render_template("errors/_saved.html", text=text, back=back), 200)
        )
    else:
        response = make_response(
            render_template("errors/saved.html", title=title, text=text, back=back), 200
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        db.session.rollback()
        return error_response(409, error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        if is_htmx():
            # The page's script fetches a fresh token at once: the user only presses again.
            response = error_response(
                400,
                _(
                    "Il modulo era scaduto e non è stato salvato. Quello che hai scritto è "
                    "ancora qui: premi di nuovo il pulsante."
                ),
            )
            response.headers["X-CSRF-Expired"] = "1"
            return response
        return error_response(
            400,
            _(
                "Il modulo è scaduto o non è stato inviato da questa pagina. "
                "Ricarica la pagina e riprova: i dati non sono stati salvati."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        if code == 401:
            return unauthorized_response()
        try:
            if code in (403, 404) and current_user.is_authenticated:
                record_denied_access(code)
        except SQLAlchemyError as problem:
            if not database_unreachable(problem):
                raise
            current_app.logger.warning("database unreachable: %s", problem)
            discard_transaction()
            return unavailable_response()
        return error_response(code)

    @app.errorhandler(SQLAlchemyError)  # its TimeoutError (pool exhausted) included
    def database_error(error: SQLAlchemyError) -> Response:
        """A failure after the commit: "saved". The database unreachable: 503 (nothing saved).
        Any other database error is a bug: on to the 500 page (and the log)."""
        discard_transaction()
        if committed() and request.method not in ("GET", "HEAD", "OPTIONS"):
            current_app.logger.warning(
                "saved, but the response failed after the commit", exc_info=error
            )
            return saved_response()
        if database_unreachable(error):
            current_app.logger.warning("database unreachable: %s", error)
            return unavailable_response()
        raise error

    @app.before_request
    def refuse_nul_bytes() -> Response | None:
        """A NUL byte is never part of what a person types: refuse the request as a whole
        (PostgreSQL could not store it, and it is a classic way to smuggle data past checks)."""
        values = [*request.args.values(), *request.args.keys()]
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values += [*request.form.values(), *request.form.keys()]
        if any("\x00" in value for value in values):
            return error_response(400, _("La richiesta contiene caratteri non ammessi."))
        return None

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> Response:
        discard_transaction()  # nothing half-written survives; the error page can still query
        if committed() and request.method not in ("GET", "HEAD", "OPTIONS"):
            return saved_response()  # the change is in the database: never "error" for it
        return error_response(500)


def record_denied_access(code: int) -> None:
    """Every refused access of a logged-in user is in the audit log (what was asked, by whom)."""
    from app.audit.operations import record

    changed_before = committed()
    db.session.rollback()
    record(
        "access_denied",
        changes={"status": code, "method": request.method, "path": request.path[:300]},
    )
    db.session.commit()
    # The audit event is not the user's change: a failure after it is no "saved".
    g.transaction_committed = changed_before


def unauthorized_response() -> Response:
    """An expired or missing login: htmx is sent to the login page, never given it as a fragment.

    Except when the request saves something: leaving the page would lose what the user typed,
    so the form stays, and a message offers the login in a new tab. Back on the page, the
    script fetches the new session's form token and the user presses the button again.
    The API never redirects: a program gets 401 and a message it can show.
    """
    if request.path.startswith("/api/"):
        return make_response(
            jsonify(error=_("Accesso richiesto: accedi al portale per usare l'API.")), 401
        )
    if is_htmx() and request.method != "GET":
        login_url = url_for("auth.login", next=url_for("auth.logged_in_again"))
        response = make_response(
            render_template("errors/_session_expired.html", login_url=login_url), 401
        )
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        response.headers["X-Session-Expired"] = "1"
        return response
    if is_htmx():
        # The fragment URL is no place to come back to: return to the page the user was on.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        login_url = url_for("auth.login", next=back or None)
        response = make_response("", 204)
        response.headers["HX-Redirect"] = login_url
        return response
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    return redirect(login_url, code=303)  # type: ignore[return-value]
