"""Single sign-on with OpenID Connect (issue #23): the City's identity provider, SPID/CIE.

Authlib's Flask client runs the authorization code flow with PKCE (S256), `state` and `nonce`;
the ID token's signature (the issuer's published keys), issuer, audience, times and nonce are
checked by Authlib. This module decides who the identity is: an account that already exists,
found by the provider's subject once linked, or linked at the first login by the configured
claim (the e-mail, or the codice fiscale, SPID's `fiscal_number` "TINIT-..." normalised).
Nothing is created, and no role comes from the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError
from sqlalchemy import delete, func, select

from app.audit.operations import record
from app.auth.models import SsoIdentity, User
from app.db import utcnow
from app.extensions import db


@dataclass(frozen=True)
class Provider:
    name: str  # "city" or "spid": in URLs, in the identity rows and in the audit log
    prefix: str  # of its settings: OIDC_ or OIDC_SPID_


PROVIDERS = (Provider("city", "OIDC_"), Provider("spid", "OIDC_SPID_"))
EXTENSION = "reti_sso"
LOGIN_ERRORS = (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError)


def _settings(app: Flask, provider: Provider) -> tuple[str, str, str] | None:
    issuer = app.config.get(provider.prefix + "ISSUER")
    client_id = app.config.get(provider.prefix + "CLIENT_ID")
    secret = app.config.get(provider.prefix + "CLIENT_SECRET")
    if provider.name == "spid":
        # The SPID/CIE proxy may share the City's client registration.
        client_id = client_id or app.config.get("OIDC_CLIENT_ID")
        secret = secret or app.config.get("OIDC_CLIENT_SECRET")
    if not (issuer and client_id and secret):
        return None
    return issuer.rstrip("/"), client_id, secret


def register_sso(app: Flask) -> None:
    """One Authlib registry per application, with a client for each configured provider."""
    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth
    for provider in PROVIDERS:
        settings = _settings(app, provider)
        if settings is None:
            continue
        issuer, client_id, secret = settings
        oauth.register(
            name=provider.name,
            client_id=client_id,
            client_secret=secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
        )


def enabled_providers() -> list[str]:
    """The configured providers, the City's first: the buttons of the login page."""
    oauth: OAuth | None = current_app.extensions.get(EXTENSION)
    if oauth is None:
        return []
    return [p.name for p in PROVIDERS if p.name in oauth._registry]


def client(name: str) -> Any | None:
    if name not in enabled_providers():
        return None
    return current_app.extensions[EXTENSION].create_client(name)


def provider_settings(name: str) -> Provider:
    return next(p for p in PROVIDERS if p.name == name)


def configured_issuer(name: str) -> str:
    settings = _settings(current_app, provider_settings(name))  # type: ignore[arg-type]
    if settings is None:
        raise LookupError(name)
    return settings[0]


def link_claim(name: str) -> str:
    return str(current_app.config[provider_settings(name).prefix + "LINK_CLAIM"])


def normalise_fiscal_code(value: object) -> str | None:
    """SPID's `fiscal_number` ("TINIT-RSSMRA80A01L219X") or a bare codice fiscale, upper case."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if code.startswith("TINIT-"):
        code = code[len("TINIT-") :]
    if len(code) != 16 or not code.isalnum():
        return None
    return code


def second_factor_at_provider(claims: dict[str, Any]) -> bool:
    """Whether the provider says it asked for a second factor (its `acr` or `amr`)."""
    accepted = {
        v.strip() for v in str(current_app.config["OIDC_MFA_ACR_VALUES"]).split(",") if v.strip()
    }
    amr = claims.get("amr") or []
    methods = set(amr) if isinstance(amr, list) else set()
    return claims.get("acr") in accepted or bool(methods & accepted)


@dataclass
class Refusal:
    reason: str  # unknown_identity, ambiguous, already_linked, disabled, invalid_response


def find_account(name: str, claims: dict[str, Any]) -> User | Refusal:
    """The account this identity belongs to; linked now if this is its first single sign-on.

    Refusals are audited here; the caller commits either way.
    """
    issuer = configured_issuer(name)
    subject = str(claims.get("sub") or "")
    if not subject:
        return _refuse(name, claims, "invalid_response")
    identity = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )
    if identity is not None:
        user = identity.user
    else:
        claim = link_claim(name)
        value = claims.get(claim)
        if claim == "email":
            if claims.get("email_verified") is False or not isinstance(value, str):
                return _refuse(name, claims, "unknown_identity")
            matches = db.session.scalars(
                select(User).where(func.lower(User.email) == value.strip().lower())
            ).all()
        else:
            code = normalise_fiscal_code(value)
            if code is None:
                return _refuse(name, claims, "unknown_identity")
            matches = db.session.scalars(select(User).where(User.fiscal_code == code)).all()
        if not matches:
            return _refuse(name, claims, "unknown_identity")
        if len(matches) > 1:
            return _refuse(name, claims, "ambiguous")
        user = matches[0]
        taken = db.session.scalar(
            select(SsoIdentity).where(SsoIdentity.user_id == user.id, SsoIdentity.provider == name)
        )
        if taken is not None:
            return _refuse(name, claims, "already_linked", user)
        identity = SsoIdentity(
            user_id=user.id, provider=name, issuer=issuer, subject=subject, linked_at=utcnow()
        )
        db.session.add(identity)
        db.session.flush()
        record("sso_linked", user, {"provider": name, "claim": claim}, actor=user)
    if not user.active:
        return _refuse(name, claims, "disabled", user)
    return user


def _refuse(name: str, claims: dict[str, Any], reason: str, user: User | None = None) -> Refusal:
    changes: dict[str, Any] = {"provider": name, "reason": reason}
    if claims.get("sub"):
        changes["subject"] = str(claims["sub"])[:255]
    if user is None:
        record("sso_login_failed", changes=changes)
    else:
        changes["username"] = user.username
        record("sso_login_failed", user, changes, actor=user)
    db.session.flush()
    return Refusal(reason)


def record_failure(name: str, error: str) -> None:
    """The provider's answer did not pass the checks (state, code, signature, nonce, times)."""
    record("sso_login_failed", changes={"provider": name, "reason": error[:200]})
    db.session.flush()


def complete_login(
    user: User,
    name: str,
    acr: str | None,
    *,
    portal_totp: bool = False,
    provider_mfa: bool = False,
) -> None:
    """Every factor is checked: the login through `name` happens."""
    now = utcnow()
    user.last_login_at = now
    identity = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.user_id == user.id, SsoIdentity.provider == name)
    )
    if identity is not None:
        identity.last_login_at = now
        identity.last_acr = acr[:255] if acr else None
    changes: dict[str, Any] = {"method": f"sso:{name}", "acr": acr or ""}
    if portal_totp:
        changes["second_factor"] = True
    if provider_mfa:
        changes["second_factor_at_provider"] = True
    record("login", user, changes, actor=user)
    db.session.flush()


def linked_identities() -> list[SsoIdentity]:
    return list(
        db.session.scalars(
            select(SsoIdentity).join(SsoIdentity.user).order_by(User.username, SsoIdentity.provider)
        )
    )


def unlink(identity: SsoIdentity) -> None:
    """The account no longer enters with this identity until its link claim matches again."""
    record(
        "sso_unlinked",
        identity.user,
        {"provider": identity.provider, "subject": identity.subject},
    )
    db.session.execute(delete(SsoIdentity).where(SsoIdentity.id == identity.id))
    db.session.flush()
