"""User administration: every change audited in the same transaction.

Separation of duties: the IT administrator manages accounts but must see no household data. So
whatever would let an admin into household data through an account (creating one with a role
that sees households, raising an account to such a role or moving it to another organization,
giving such an account a new temporary password) is only a request here: a City coordinator
other than the requester and the account's owner confirms or refuses it, and only the
confirmation changes the account. The temporary password that a confirmation creates is shown
to the confirming coordinator (who already sees every household, so learns nothing new by it),
never to the admin. Accounts that see no household data (admins) keep being managed directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from app.admin.models import AccountChangeRequest
from app.audit.operations import diff, record
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext as _
from app.notifications.operations import coordinators, notify
from app.workflow import move

USER_FIELDS = ("full_name", "email", "role", "organization_id", "fiscal_code")
# The fields single sign-on links an identity by (OIDC_LINK_CLAIM, OIDC_SPID_LINK_CLAIM): whoever
# sets them chooses who may log in as the account, as a password reset does.
LOGIN_IDENTITY_FIELDS = ("email", "fiscal_code")
# Roles whose accounts see household data (DESIGN.md, roles): everyone but the admin.
HOUSEHOLD_ROLES = frozenset({Role.COORDINATOR, Role.ENTITY_OPERATOR, Role.HOUSING_PROVIDER})


def temporary_password() -> str:
    """Readable, 16 characters, shown once to the admin; the user must change it at first login."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3))


def sees_households(role: str | None) -> bool:
    return role in HOUSEHOLD_ROLES


def create_user(
    *,
    username: str,
    full_name: str,
    email: str,
    role: str,
    organization_id: int | None,
    fiscal_code: str | None = None,
    approval: Mapping[str, Any] | None = None,
) -> tuple[User, str]:
    password = temporary_password()
    user = User(
        username=username.strip().lower(),
        full_name=full_name.strip(),
        email=email.strip(),
        role=role,
        organization_id=organization_id,
        fiscal_code=fiscal_code or None,
        password_hash=hash_password(password),
        must_change_password=True,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user_created",
        user,
        {
            "username": user.username,
            "role": role,
            "organization_id": organization_id,
            **({"fiscal_code": fiscal_code} if fiscal_code else {}),
            **(approval or {}),
        },
    )
    return user, password


def update_user(
    user: User, approval: Mapping[str, Any] | None = None, **values: object
) -> dict[str, list[object]]:
    """Change the given fields (of USER_FIELDS); `approval` names who asked and who confirmed."""
    changes = diff(user, {k: values[k] for k in USER_FIELDS if k in values})
    for field in changes:
        setattr(user, field, values[field])
    if "role" in changes or "organization_id" in changes:
        user.rotate_session_token()  # new rights start with a new login
    if changes:
        record("user_updated", user, {**changes, **(approval or {})})
    db.session.flush()
    return changes


def needs_confirmation(user: User | None, role: str | None, organization_id: int | None) -> bool:
    """Would this role and organization give the account household data it does not see now?"""
    if not sees_households(role):
        return False
    return user is None or role != user.role or organization_id != user.organization_id


def identity_changes(
    user: User, role: str | None, sso_enabled: bool, **values: str | None
) -> dict[str, str | None]:
    """The login identity fields that change on an account that sees (or will see) household
    data while single sign-on is on: they wait for a coordinator, as a password reset does."""
    if not sso_enabled or not (sees_households(role) or sees_households(user.role)):
        return {}
    return {
        field: values[field] or None
        for field in LOGIN_IDENTITY_FIELDS
        if field in values and (values[field] or None) != getattr(user, field)
    }


def set_active(user: User, active: bool) -> None:
    if user.active == active:
        return
    user.active = active
    if not active:
        user.rotate_session_token()
    record("user_enabled" if active else "user_disabled", user, {"active": [not active, active]})
    db.session.flush()


def reset_password(user: User, approval: Mapping[str, Any] | None = None) -> str:
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.rotate_session_token()
    record("user_password_reset", user, dict(approval) if approval else None)
    db.session.flush()
    return password


# Requests that wait for a coordinator ------------------------------------------------------

REQUESTED_TO_COORDINATORS = {
    "create": "account_create_requested",
    "update": "account_update_requested",
    "password_reset": "account_reset_requested",
}
REQUESTED_TO_OWNER = {
    "update": "account_update_requested_owner",
    "password_reset": "account_reset_requested_owner",
}


def username_taken(username: str) -> bool:
    """Used by an account, or asked for by a request that still waits."""
    name = username.strip().lower()
    if username_taken_by_account(name):
        return True
    waiting = select(AccountChangeRequest.id).where(
        AccountChangeRequest.status == "pending", AccountChangeRequest.username == name
    )
    return db.session.scalar(waiting.limit(1)) is not None


def pending_requests_for(user: User) -> list[AccountChangeRequest]:
    return list(
        db.session.scalars(
            select(AccountChangeRequest)
            .where(
                AccountChangeRequest.user_id == user.id, AccountChangeRequest.status == "pending"
            )
            .order_by(AccountChangeRequest.id)
        )
    )


def _ask(
    kind: str, requester: User, values: dict[str, Any], user: User | None = None
) -> AccountChangeRequest:
    change = AccountChangeRequest(
        kind=kind,
        status="pending",
        user_id=user.id if user is not None else None,
        username=values.get("username"),
        requested_values=values,
        requested_by_id=requester.id,
        requested_at=utcnow(),
    )
    db.session.add(change)
    db.session.flush()
    username = user.username if user is not None else values["username"]
    record("account_change_requested", change, {"kind": kind, "username": username, **values})
    params = {"username": username, "requested_by": requester.full_name}
    notify(coordinators(), REQUESTED_TO_COORDINATORS[kind], change, params, exclude=requester)
    if user is not None:
        notify([user], REQUESTED_TO_OWNER[kind], user, params)
    return change


def request_creation(requester: User, **values: Any) -> AccountChangeRequest:
    clean = {
        "username": values["username"].strip().lower(),
        "full_name": values["full_name"].strip(),
        "email": values["email"].strip(),
        "role": values["role"],
        "organization_id": values["organization_id"],
    }
    if values.get("fiscal_code"):
        clean["fiscal_code"] = values["fiscal_code"]
    return _ask("create", requester, clean)


def request_update(
    user: User,
    requester: User,
    *,
    role: str,
    organization_id: int | None,
    identity: Mapping[str, str | None] | None = None,
) -> AccountChangeRequest:
    values: dict[str, Any] = {"role": role, "organization_id": organization_id, **(identity or {})}
    return _ask("update", requester, values, user)


def request_password_reset(user: User, requester: User) -> AccountChangeRequest:
    return _ask("password_reset", requester, {}, user)


def may_decide(change: AccountChangeRequest, decider: User) -> bool:
    """A coordinator who is neither the requester nor the account's owner."""
    return (
        decider.has_role(Role.COORDINATOR)
        and decider.id != change.requested_by_id
        and decider.id != change.user_id
    )


def _decide(change: AccountChangeRequest, decider: User, status: str, reason: str | None) -> None:
    if not may_decide(change, decider):
        raise DomainError(
            _(
                "Una richiesta si conferma o si respinge da un coordinatore diverso da chi "
                "l'ha fatta e dalla persona dell'account."
            )
        )
    move(
        change,
        ("pending",),
        {"status": status, "decided_by_id": decider.id, "decided_at": utcnow(), "reason": reason},
        refused=lambda current: _(
            "La richiesta è già stata decisa da un altro coordinatore (%(state)s).",
            state=_("confermata") if current == "confirmed" else _("respinta"),
        ),
    )


def confirm(change: AccountChangeRequest, decider: User) -> tuple[User, str | None]:
    """Apply the request; returns the account and the temporary password to show, if any."""
    _decide(change, decider, "confirmed", None)
    requester = change.requested_by
    approval = {"requested_by": requester.username, "confirmed_by": decider.username}
    values = change.requested_values
    password: str | None = None
    if change.kind == "create":
        if username_taken_by_account(values["username"]):
            raise DomainError(
                _(
                    "Il nome utente %(name)s è ora usato da un altro account: respingi la "
                    "richiesta.",
                    name=values["username"],
                )
            )
        _check_fiscal_code_free(values.get("fiscal_code"), None)
        user, password = create_user(**values, approval=approval)
        change.user_id = user.id
    else:
        user = change.user  # type: ignore[assignment]
        if change.kind == "update":
            could_see = sees_households(user.role)
            identity = {k: values[k] for k in LOGIN_IDENTITY_FIELDS if k in values}
            _check_fiscal_code_free(identity.get("fiscal_code"), user)
            update_user(
                user,
                approval,
                role=values["role"],
                organization_id=values["organization_id"],
                **identity,
            )
            if not could_see:
                # The admin may know the password of an account that saw nothing until now.
                password = reset_password(user, approval)
        else:
            password = reset_password(user, approval)
    record("account_change_confirmed", change, {"kind": change.kind, **approval})
    params = {
        "username": user.username,
        "requested_by": requester.full_name,
        "decided_by": decider.full_name,
    }
    others = [c for c in coordinators() if c.id not in (decider.id, user.id)]
    notify(others, "account_change_confirmed", change, params)
    notify(
        [user],
        "account_created_owner" if change.kind == "create" else "account_change_confirmed_owner",
        user,
        params,
    )
    db.session.flush()
    return user, password


def _check_fiscal_code_free(code: str | None, user: User | None) -> None:
    """A codice fiscale asked for while free may have gone to another account since."""
    if not code:
        return
    owner = db.session.scalar(select(User.id).where(User.fiscal_code == code))
    if owner is not None and (user is None or owner != user.id):
        raise DomainError(
            _(
                "Il codice fiscale %(code)s è ora di un altro account: respingi la richiesta.",
                code=code,
            )
        )


def refuse(change: AccountChangeRequest, decider: User, reason: str | None) -> None:
    _decide(change, decider, "refused", reason)
    requester = change.requested_by
    username = change.user.username if change.user is not None else change.username
    record(
        "account_change_refused",
        change,
        {
            "kind": change.kind,
            "requested_by": requester.username,
            "refused_by": decider.username,
            **({"reason": reason} if reason else {}),
        },
    )
    params = {
        "username": username,
        "requested_by": requester.full_name,
        "decided_by": decider.full_name,
    }
    notify(coordinators(), "account_change_refused", change, params, exclude=decider)
    if change.user is not None:
        notify([change.user], "account_change_refused_owner", change.user, params)
    db.session.flush()


def username_taken_by_account(username: str) -> bool:
    return (
        db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
        is not None
    )
