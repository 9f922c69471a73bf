"""Italian error pages, which also work for htmx requests (an alert in the message area)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.web.htmx import is_htmx

MESSAGES = {
    400: ("Richiesta non valida", "La richiesta non è stata compresa."),
    403: ("Accesso non consentito", "Il tuo ruolo non permette di usare questa pagina."),
    404: ("Pagina non trovata", "La pagina cercata non esiste o non è tra quelle che puoi vedere."),
    405: ("Operazione non consentita", "Questa operazione non è disponibile su questa pagina."),
    409: ("Operazione non possibile", "L'operazione non è possibile nello stato attuale."),
    413: ("Dati troppo grandi", "I dati inviati superano la dimensione consentita."),
    422: ("Dati non validi", "Alcuni dati non sono validi: controlla il modulo."),
    429: ("Troppi tentativi", "Troppe richieste in poco tempo: riprova tra qualche minuto."),
    500: ("Errore del sistema", "Si è verificato un errore imprevisto. Riprova più tardi."),
}


def _texts(code: int) -> tuple[str, str]:
    title, text = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    return _(title), _(text)


def error_response(code: int, detail: str | None = None) -> Response:
    title, text = _texts(code)
    if detail:
        text = detail
    if request.path.startswith("/api/"):
        return make_response(jsonify(error=text), code)
    if is_htmx():
        response = make_response(
            render_template("errors/_alert.html", code=code, title=title, text=text), code
        )
        # htmx 4 swaps error responses: put the alert in the page's message area instead.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return make_response(
        render_template("errors/error.html", code=code, title=title, text=text), code
    )


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
        if code in (403, 404) and current_user.is_authenticated:
            record_denied_access(code)
        return error_response(code)

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
        db.session.rollback()  # nothing half-written survives; the error page can still query
        return error_response(500)


def record_denied_access(code: int) -> None:
    """Every refused access of a logged-in user is in the audit log (what was asked, by whom)."""
    from app.audit.operations import record

    db.session.rollback()
    record(
        "access_denied",
        changes={"status": code, "method": request.method, "path": request.path[:300]},
    )
    db.session.commit()


def unauthorized_response() -> Response:
    """An expired or missing login: htmx is sent to the login page, never given it as a fragment.

    Except when the request saves something: leaving the page would lose what the user typed,
    so the form stays, and a message offers the login in a new tab. Back on the page, the
    script fetches the new session's form token and the user presses the button again.
    """
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
