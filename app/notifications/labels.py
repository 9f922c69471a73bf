"""What each kind of notification says, in the user's language."""

from __future__ import annotations

from flask import url_for

from app.i18n import lazy_gettext as _l
from app.notifications.models import Notification

TEXTS = {
    "referral_submitted": _l("Nuova segnalazione n. %(id)s da approvare"),
    "referral_approved": _l(
        "Segnalazione n. %(id)s approvata dalla Città: attende la vostra risposta"
    ),
    "referral_rejected": _l("La Città ha respinto la segnalazione n. %(id)s"),
    "referral_accepted": _l("La segnalazione n. %(id)s è stata accettata dal servizio"),
    "referral_declined": _l("Il servizio ha rifiutato la segnalazione n. %(id)s"),
    "referral_completed": _l("La segnalazione n. %(id)s si è conclusa con esito positivo"),
    "referral_failed": _l("La segnalazione n. %(id)s si è conclusa senza esito"),
    "referral_cancelled": _l("L'ente inviante ha annullato la segnalazione n. %(id)s"),
    "referral_stalled": _l(
        "La segnalazione n. %(id)s attende una risposta da più di %(days)s giorni lavorativi: "
        "se nessuno risponde entro il %(expires)s, torna all'ente inviante"
    ),
    "referral_expired": _l(
        "La segnalazione n. %(id)s è scaduta senza risposta ed è tornata all'ente inviante"
    ),
    "referral_promoted": _l(
        "Si è liberato un posto: la segnalazione n. %(id)s è uscita dalla lista d'attesa ed è "
        "in attesa di approvazione della Città"
    ),
    "placement_proposed": _l("Nuova proposta di inserimento abitativo n. %(id)s da approvare"),
    "placement_approved": _l(
        "Inserimento n. %(id)s approvato dalla Città: attende la vostra risposta"
    ),
    "placement_rejected": _l("La Città ha respinto la proposta di inserimento n. %(id)s"),
    "placement_accepted": _l("Il gestore ha accettato l'inserimento n. %(id)s"),
    "placement_declined": _l("Il gestore ha rifiutato l'inserimento n. %(id)s"),
    "placement_ended": _l("L'inserimento n. %(id)s si è concluso"),
    "placement_cancelled": _l("L'inserimento n. %(id)s è stato annullato"),
    "wellbeing_critical": _l("Verifica critica nell'inserimento n. %(id)s: serve un intervento"),
    "project_submitted": _l("Nuovo progetto n. %(id)s da approvare"),
    "project_approve": _l("La Città ha approvato il progetto n. %(id)s"),
    "project_return": _l("La Città ha rimandato il progetto n. %(id)s all'ente"),
    "budget_increase_requested": _l("Richiesta di aumento del budget sul progetto n. %(id)s"),
    "budget_increase_approved": _l(
        "La Città ha approvato l'aumento del budget del progetto n. %(id)s"
    ),
    "budget_increase_rejected": _l(
        "La Città ha respinto l'aumento del budget del progetto n. %(id)s"
    ),
    "organization_identity_changed": _l(
        "L'ente %(name)s ha cambiato denominazione, forma giuridica, codice fiscale o iscrizione "
        "RUNTS: i dati sono da verificare"
    ),
    "account_create_requested": _l(
        "Richiesta n. %(id)s di %(requested_by)s: creare l'account %(username)s; serve la "
        "conferma di un coordinatore"
    ),
    "account_update_requested": _l(
        "Richiesta n. %(id)s di %(requested_by)s: cambiare ruolo, ente o dati di accesso "
        "(email, codice fiscale) dell'account %(username)s; serve la conferma di un coordinatore"
    ),
    "account_reset_requested": _l(
        "Richiesta n. %(id)s di %(requested_by)s: nuova password provvisoria per %(username)s; "
        "serve la conferma di un coordinatore"
    ),
    "account_change_confirmed": _l(
        "Richiesta n. %(id)s sull'account %(username)s confermata da %(decided_by)s"
    ),
    "account_change_refused": _l(
        "Richiesta n. %(id)s sull'account %(username)s respinta da %(decided_by)s"
    ),
    "account_update_requested_owner": _l(
        "%(requested_by)s ha chiesto di cambiare il ruolo, l'ente o i dati di accesso (email, "
        "codice fiscale) del tuo account: vale solo se un coordinatore della Città lo conferma. "
        "Se non te l'aspettavi, avvisa la Città."
    ),
    "account_reset_requested_owner": _l(
        "%(requested_by)s ha chiesto una nuova password provvisoria per il tuo account: vale "
        "solo se un coordinatore della Città lo conferma. Se non te l'aspettavi, avvisa la Città."
    ),
    "account_created_owner": _l(
        "Il tuo account è stato creato: chiesto da %(requested_by)s, confermato da %(decided_by)s"
    ),
    "account_change_confirmed_owner": _l(
        "La modifica del tuo account chiesta da %(requested_by)s è stata confermata da "
        "%(decided_by)s"
    ),
    "account_change_refused_owner": _l(
        "La modifica del tuo account chiesta da %(requested_by)s è stata respinta da %(decided_by)s"
    ),
    "accreditation_expiring": _l(
        "L'accreditamento di %(name)s scade il %(when)s: va rinnovato perché l'ente continui a "
        "ricevere segnalazioni"
    ),
    "units_stale": _l(
        "%(count)s alloggi non aggiornati da più di una settimana: conferma i posti liberi sulla "
        "bacheca"
    ),
    "household_taken_over": _l(
        "Il nucleo n. %(id)s ha preso in carico una persona di un nucleo chiuso di un altro ente"
    ),
    "joint_care_requested": _l(
        "%(organization)s chiede la presa in carico congiunta del nucleo n. %(id)s: da decidere"
    ),
    "joint_care_requested_owner": _l(
        "%(organization)s ha chiesto alla Città di seguire con voi il nucleo n. %(id)s"
    ),
    "supply_short": _l(
        "Scorte basse allo snodo %(site)s: %(item)s per circa %(days)s giorni (%(on_hand)s "
        "disponibili). Serve una consegna"
    ),
    "consent_withdrawn": _l(
        "Un nucleo ha revocato il consenso alla condivisione dei dati (%(purpose)s) con cui vi "
        "erano stati trasmessi: da oggi non riceverete altro e le pratiche aperte si fermano"
    ),
    "intake_disclosures_many": _l(
        "%(name)s ha chiesto %(count)s volte in un'ora se una persona è già seguita da un altro "
        "ente"
    ),
}

TARGETS = {
    "referral": ("referrals.detail", "referral_id"),
    "placement": ("housing.placement", "placement_id"),
    "project": ("projects.detail", "project_id"),
    "organization": ("registry.detail", "org_id"),
    "household": ("households.detail", "household_id"),
    "account_change_request": ("admin.account_request", "request_id"),
    "supply_balance": ("supplies.movements", "balance_id"),
}


def text(notification: Notification) -> str:
    template = TEXTS.get(notification.kind)
    if template is None:
        return str(notification.kind)
    return str(template) % {"id": notification.object_id, **(notification.params or {})}


def target_url(notification: Notification) -> str | None:
    if notification.kind == "intake_disclosures_many":  # the user's answers, in the audit log
        return url_for(
            "audit.index",
            azione="intake_conflict_disclosed",
            utente=(notification.params or {}).get("username"),
        )
    if notification.kind == "units_stale":  # the provider's own units, on the board
        return url_for("housing.index")
    target = TARGETS.get(notification.object_type)
    if target is None:
        return None
    endpoint, arg = target
    return url_for(endpoint, **{arg: notification.object_id})
