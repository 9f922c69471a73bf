"""Settings, read from the environment.

`PORTAL_ENV=production` selects the production settings, which refuse to start without a real
SECRET_KEY and a DATABASE_URL. Everything else defaults to a local demo on SQLite in `instance/`.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def database_url(raw: str | None = None) -> str:
    """Normalise DATABASE_URL: PostgreSQL goes through psycopg 3; SQLite lives in instance/."""
    url = raw if raw is not None else os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'portal.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _local_secret_key() -> str:
    """A secret kept in instance/secret_key, so every worker process and restart shares it."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sì"}


class Config:
    ENV_NAME = "development"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = ""
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Italian first: the interface speaks Italian unless the user picks English.
    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = ("it", "en")

    # Social workers keep forms open all morning: a CSRF token lives as long as the working day
    # and is bound to the session (Flask-WTF stores it there), which logout destroys.
    WTF_CSRF_TIME_LIMIT = int(os.environ.get("WTF_CSRF_TIME_LIMIT", str(10 * 3600)))

    SESSION_COOKIE_NAME = "reti_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # Re-send the cookie only when the session changed: otherwise a slow response for a static
    # file (which loads the session) can land after a page's response and put back an older
    # session, losing what that page stored (a CSRF token, a pending two-factor enrolment).
    SESSION_REFRESH_EACH_REQUEST = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", "10")))
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Reverse proxies in front of the portal (X-Forwarded-For/-Proto are trusted from this many).
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))

    # A form of the portal never needs more; larger bodies get the Italian 413 page.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024

    # Sessions end after this much inactivity, and in any case PERMANENT_SESSION_LIFETIME after
    # the login (the absolute lifetime).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    # The monitoring report (aggregates, no personal data) is computed at most every 5 minutes
    # per process for the same filters: at city scale it reads half a million distributions.
    REPORT_CACHE_SECONDS = int(os.environ.get("REPORT_CACHE_SECONDS", "300"))
    # The services matching ranks (thousands at city scale) are read at most every 30 s per
    # process; every step that takes a place checks the capacity again in the database.
    OFFERS_CACHE_SECONDS = int(os.environ.get("OFFERS_CACHE_SECONDS", "30"))

    # Login throttling. Only refused attempts count; the windows slide, so nobody can lock a
    # colleague out for good. With the default "memory://" the refusals are counted in the
    # database (table auth_failure), which every worker process shares; a shared storage
    # (e.g. "redis://...") hands the password step to Flask-Limiter instead. Windows of at
    # most a day (older refusals are deleted).
    #
    # REDIS_URL (e.g. "redis://127.0.0.1:6379/0"): several processes or machines share Redis
    # for the login throttle (unless RATELIMIT_STORAGE_URI says otherwise) and the caches of
    # aggregates; unset, one process works on its own, as on the embedded default.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "reti:")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    RATELIMIT_KEY_PREFIX = CACHE_KEY_PREFIX + "limiter"

    # E-mail for notifications that ask someone to act (app/notifications/mail.py): off
    # unless MAIL_SERVER is set. STARTTLS with MAIL_USE_TLS, implicit TLS with MAIL_USE_SSL.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "Reti Torino <noreply@reti.torino.invalid>")
    # With the background worker (REDIS_URL), longer household exports are prepared by it.
    EXPORT_BACKGROUND_ROWS = int(os.environ.get("EXPORT_BACKGROUND_ROWS", "5000"))
    # The portal's address as users reach it, for the links in e-mails.
    PORTAL_URL = os.environ.get("PORTAL_URL", "http://localhost:8000")
    RATELIMIT_HEADERS_ENABLED = False  # Retry-After is set on the 429 answer only
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute")

    # Two-factor authentication (TOTP) for the City's coordinators and administrators.
    TOTP_REQUIRED_FOR_CITY = _bool("TOTP_REQUIRED_FOR_CITY", False)
    TOTP_ISSUER = "Reti Torino"
    # Wrong codes are counted on the server: per pending login (ended after TOTP_MAX_ATTEMPTS)
    # and per user over every login (TOTP_LIMIT_PER_ACCOUNT, then 429).
    TOTP_MAX_ATTEMPTS = 5
    TOTP_PENDING_MINUTES = 5
    TOTP_LIMIT_PER_ACCOUNT = os.environ.get("TOTP_LIMIT_PER_ACCOUNT", "10 per 10 minutes")
    RECOVERY_CODE_COUNT = 10

    # Single sign-on with OpenID Connect (README, "Accesso con l'account della Città e SPID/CIE"):
    # on when the issuer, client id and secret are set. The second provider is the SPID/CIE proxy.
    # An identity is linked to an existing account by the claim named in *_LINK_CLAIM: "email"
    # matches the account's e-mail, any other claim (SPID's "fiscal_number") its codice fiscale.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER") or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None
    OIDC_LINK_CLAIM = os.environ.get("OIDC_LINK_CLAIM", "email")
    OIDC_SPID_ISSUER = os.environ.get("OIDC_SPID_ISSUER") or None
    OIDC_SPID_CLIENT_ID = os.environ.get("OIDC_SPID_CLIENT_ID") or None
    OIDC_SPID_CLIENT_SECRET = os.environ.get("OIDC_SPID_CLIENT_SECRET") or None
    OIDC_SPID_LINK_CLAIM = os.environ.get("OIDC_SPID_LINK_CLAIM", "fiscal_number")
    # The provider's `acr` values (or `amr` entries) that mean a second factor was used there:
    # City staff who logged in with one of them skip the portal's TOTP.
    OIDC_MFA_ACR_VALUES = os.environ.get(
        "OIDC_MFA_ACR_VALUES",
        "mfa,otp,hwk,https://www.spid.gov.it/SpidL2,https://www.spid.gov.it/SpidL3",
    )
    # Seconds of clock difference tolerated in the ID token's times.
    OIDC_LEEWAY = int(os.environ.get("OIDC_LEEWAY", "60"))

    PASSWORD_MIN_LENGTH = 12
    # zxcvbn's score (0-4) a new password needs, and how many earlier passwords it may not be.
    PASSWORD_MIN_SCORE = 3
    PASSWORD_HISTORY = 5
    DEMO_PASSWORD = "demo-Torino-2026"  # noqa: S105 - the published password of the demo accounts

    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url()
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    TOTP_REQUIRED_FOR_CITY = _bool("TOTP_REQUIRED_FOR_CITY", True)

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY", "")
        if len(secret) < 32 or secret in {"change-me", "dev", "secret"}:
            raise RuntimeError(
                "SECRET_KEY mancante o troppo corta: in produzione impostare SECRET_KEY "
                "(almeno 32 caratteri casuali)."
            )
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL mancante: in produzione serve PostgreSQL.")
        super().__init__()
        self.SECRET_KEY = secret


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    WTF_CSRF_TIME_LIMIT = 3600
    # The whole suite logs in from 127.0.0.1 many times: the throttling tests lower these.
    REDIS_URL = None  # the tests of shared infrastructure set it on their own apps
    MAIL_SERVER = None  # the e-mail tests set their own loopback SMTP server
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_LIMIT_PER_ACCOUNT = "10000 per minute"
    LOGIN_LIMIT_PER_ADDRESS = "10000 per minute"
    TOTP_LIMIT_PER_ACCOUNT = "10000 per minute"
    TOTP_REQUIRED_FOR_CITY = False
    REPORT_CACHE_SECONDS = 0  # tests change data and read the report at once
    OFFERS_CACHE_SECONDS = 0
    # Single sign-on is off in tests unless a test turns it on (tests/test_auth_sso.py).
    OIDC_ISSUER = None
    OIDC_CLIENT_ID = None
    OIDC_CLIENT_SECRET = None
    OIDC_SPID_ISSUER = None
    OIDC_SPID_CLIENT_ID = None
    OIDC_SPID_CLIENT_SECRET = None

    def __init__(self, database_uri: str) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url(database_uri)
        self.SQLALCHEMY_ENGINE_OPTIONS = (
            {} if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite") else {"pool_pre_ping": True}
        )
        self.SECRET_KEY = secrets.token_urlsafe(32)


def config_from_env() -> Config:
    if os.environ.get("PORTAL_ENV", "").lower() == "production":
        return ProductionConfig()
    return Config()
