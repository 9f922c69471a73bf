"""What each audit action means, in words a social worker reads."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "login": _l("accesso al portale"),
    "access_denied": _l("accesso negato a una pagina"),
    "login_failed": _l("accesso non riuscito"),
    "logout": _l("uscita dal portale"),
    "login_throttled": _l("accesso bloccato: troppi tentativi"),
    "totp_enabled": _l("verifica in due passaggi attivata"),
    "totp_disabled": _l("verifica in due passaggi disattivata"),
    "totp_failed": _l("codice di verifica errato"),
    "totp_enable_failed": _l("attivazione della verifica in due passaggi non riuscita"),
    "totp_disable_failed": _l("disattivazione della verifica in due passaggi non riuscita"),
    "totp_attempts_exhausted": _l("accesso interrotto: troppi codici errati"),
    "password_changed": _l("password cambiata"),
    "password_change_failed": _l("cambio password non riuscito"),
    "user_created": _l("account creato"),
    "user_updated": _l("account modificato"),
    "user_disabled": _l("account disattivato"),
    "user_enabled": _l("account riattivato"),
    "user_password_reset": _l("password provvisoria generata"),
    "organization_created": _l("ente registrato"),
    "organization_updated": _l("dati dell'ente modificati"),
    "accreditation_created": _l("accreditamento registrato"),
    "accreditation_updated": _l("dati di accreditamento modificati"),
    "accreditation_verify": _l("accreditamento verificato"),
    "accreditation_suspend": _l("accreditamento sospeso"),
    "accreditation_reactivate": _l("accreditamento riattivato"),
    "accreditation_expire": _l("scadenza dell'accreditamento registrata"),
    "accreditation_expired": _l("accreditamento scaduto"),
    "service_created": _l("servizio aggiunto"),
    "service_updated": _l("servizio modificato"),
    "service_confirmed": _l("servizio confermato"),
    "site_created": _l("sede aggiunta"),
    "site_updated": _l("sede modificata"),
    "household_taken_in_charge": _l("presa in carico"),
    "household_viewed": _l("scheda consultata"),
    "household_updated": _l("dati del nucleo modificati"),
    "household_closed": _l("presa in carico chiusa"),
    "household_anonymised": _l("nucleo anonimizzato"),
    "person_created": _l("componente registrato"),
    "person_updated": _l("dati di un componente modificati"),
    "person_data_exported": _l("dati di una persona esportati"),
    "privacy_notice_recorded": _l("informativa privacy registrata"),
    "sharing_authorised": _l("autorizzazione alla condivisione registrata"),
    "sharing_withdrawn": _l("autorizzazione alla condivisione revocata"),
    "duplicate_warning_dismissed": _l("avviso di possibile doppione superato"),
    "joint_care_requested": _l("presa in carico congiunta richiesta"),
    "joint_care_accepted": _l("presa in carico congiunta accolta"),
    "joint_care_declined": _l("presa in carico congiunta non accolta"),
    "distribution_recorded": _l("distribuzione registrata"),
    "demo_data_loaded": _l("dati dimostrativi caricati"),
    "demo_households_loaded": _l("nuclei dimostrativi caricati"),
    "retention_applied": _l("conservazione dei dati applicata: nuclei anonimizzati"),
}


def audit_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
