"""Household intake and editing forms."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.clock import today
from app.households import codice_fiscale as cf
from app.households.vocabulary import (
    CLOSING_REASONS,
    CONSENT_PURPOSES,
    CONTACT_CHANNELS,
    EDUCATION,
    EMPLOYMENT,
    HOUSING,
    NEEDS,
    RELATIONS,
    SEXES,
)
from app.i18n import lazy_gettext as _l
from app.idempotency import IdempotencyKeyMixin
from app.registry.forms import MultiCheckboxField, choices, circoscrizione_choices, no_markup
from app.registry.vocabulary import LANGUAGES
from app.web.fields import MoneyField

ISEE_MAX = Decimal("100000")


def not_in_future(form: Form, field: DateField) -> None:
    if field.data and field.data > today():
        raise ValidationError(_l("La data non può essere nel futuro."))


class PersonForm(Form):
    """One member of the household (also used inside the intake form's list of members)."""

    first_name = StringField(
        _l("Nome"), validators=[DataRequired(_l("Inserisci il nome.")), Length(max=100), no_markup]
    )
    last_name = StringField(
        _l("Cognome"),
        validators=[DataRequired(_l("Inserisci il cognome.")), Length(max=100), no_markup],
    )
    codice_fiscale = StringField(
        _l("Codice fiscale"),
        validators=[Optional(), Length(max=32)],
        description=_l("16 caratteri. Lascia vuoto solo se la persona non ne ha uno."),
    )
    birth_date = DateField(
        _l("Data di nascita"),
        validators=[InputRequired(_l("Inserisci una data valida (gg/mm/aaaa).")), not_in_future],
    )
    sex = SelectField(
        _l("Sesso"),
        choices=choices(SEXES, _l("Scegli")),
        validators=[DataRequired(_l("Indica il sesso (serve a verificare il codice fiscale)."))],
    )
    relation = SelectField(
        _l("Relazione con la persona di riferimento"),
        choices=choices(RELATIONS),
        validators=[DataRequired(_l("Indica la relazione."))],
    )
    employment_status = SelectField(
        _l("Condizione lavorativa"), choices=choices(EMPLOYMENT, _l("Non indicata"))
    )
    education = SelectField(_l("Titolo di studio"), choices=choices(EDUCATION, _l("Non indicato")))
    languages = SelectMultipleField(
        _l("Lingue parlate"),
        choices=choices(LANGUAGES),
        description=_l("Tieni premuto Ctrl per sceglierne più di una."),
    )

    def validate_codice_fiscale(self, field: StringField) -> None:
        if not field.data:
            field.data = None
            return
        problem = cf.format_problem(field.data)
        if problem is None:
            field.data = cf.normalise(field.data)
            problem = cf.consistency_problem(field.data, self.birth_date.data, self.sex.data)
        if problem:
            raise ValidationError(problem)

    def values(self) -> dict[str, object]:
        return {
            "first_name": (self.first_name.data or "").strip(),
            "last_name": (self.last_name.data or "").strip(),
            "codice_fiscale": self.codice_fiscale.data or None,
            "birth_date": self.birth_date.data,
            "sex": self.sex.data,
            "relation": self.relation.data,
            "employment_status": self.employment_status.data or None,
            "education": self.education.data or None,
            "languages": list(self.languages.data or []),
        }


PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ./-]{5,38}$")
EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class MemberForm(FlaskForm, PersonForm):  # type: ignore[misc]
    """A member added or edited on their own page; with how to reach the person (issue #26)."""

    phone = StringField(
        _l("Telefono"),
        validators=[Optional(), Length(max=40, message=_l("Al massimo 40 caratteri."))],
        description=_l("Facoltativo. Per esempio 011 1234567 o +39 333 1234567."),
    )
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=254, message=_l("Al massimo 254 caratteri."))],
        description=_l("Facoltativa."),
    )
    preferred_channel = SelectField(
        _l("Come preferisce essere contattata"),
        choices=choices(CONTACT_CHANNELS, _l("Non indicato")),
        default="",
    )
    contact_consent = BooleanField(
        _l(
            "La persona acconsente a essere contattata dal servizio a cui è segnalata, "
            "dopo l'approvazione della Città"
        )
    )

    def validate_phone(self, field: StringField) -> None:
        value = " ".join((field.data or "").split())
        field.data = value or None
        if value and not PHONE_PATTERN.match(value):
            raise ValidationError(
                _l("Il numero di telefono può contenere solo cifre, spazi e un + iniziale.")
            )

    def validate_email(self, field: StringField) -> None:
        value = (field.data or "").strip()
        field.data = value or None
        if value and not EMAIL_PATTERN.match(value):
            raise ValidationError(_l("Indirizzo e-mail non valido: per esempio nome@esempio.it."))

    def validate_preferred_channel(self, field: SelectField) -> None:
        wanted = {"phone": self.phone.data, "sms": self.phone.data, "email": self.email.data}
        if field.data in wanted and not wanted[field.data]:
            if field.data == "email":
                raise ValidationError(_l("Per il contatto via e-mail indica l'indirizzo."))
            raise ValidationError(_l("Per il contatto telefonico indica il numero."))

    def validate_contact_consent(self, field: BooleanField) -> None:
        if field.data and not (self.phone.data or self.email.data):
            raise ValidationError(
                _l("Indica almeno un telefono o un'e-mail a cui la persona acconsente.")
            )

    def values(self) -> dict[str, object]:
        return {
            **super().values(),
            "phone": self.phone.data or None,
            "email": self.email.data or None,
            "preferred_channel": self.preferred_channel.data or None,
            "contact_consent": bool(self.contact_consent.data),
        }


class NewMemberForm(IdempotencyKeyMixin, MemberForm):
    """A member added: sent twice (a double click), it adds one person."""


class HouseholdFieldsMixin:
    address = StringField(
        _l("Indirizzo di residenza o domicilio"),
        validators=[Optional(), Length(max=200), no_markup],
    )
    circoscrizione = SelectField(
        _l("Circoscrizione"),
        choices=circoscrizione_choices(_l("Scegli la circoscrizione")),
        validators=[DataRequired(_l("Scegli la circoscrizione."))],
    )
    isee_value = MoneyField(
        _l("Valore ISEE (euro)"),
        validators=[
            Optional(),
            NumberRange(0, ISEE_MAX, _l("Un valore ISEE tra 0 e 100.000 euro.")),
        ],
        description=_l("Per esempio 6532,40"),
    )
    isee_expires_on = DateField(_l("Scadenza dell'ISEE"), validators=[Optional()])
    housing_situation = SelectField(
        _l("Situazione abitativa"), choices=choices(HOUSING, _l("Non indicata"))
    )
    needs = MultiCheckboxField(
        _l("Bisogni"),
        choices=choices(NEEDS),
        validators=[DataRequired(_l("Indica almeno un bisogno."))],
    )
    notes = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class HouseholdForm(HouseholdFieldsMixin, FlaskForm):
    """The household's own data, edited after intake."""


class IntakeForm(IdempotencyKeyMixin, HouseholdFieldsMixin, FlaskForm):
    members = FieldList(FormField(PersonForm), min_entries=1, max_entries=20)
    privacy_notice_given = BooleanField(
        _l("Ho consegnato e spiegato l'informativa sul trattamento dei dati personali")
    )
    privacy_notice_on = DateField(
        _l("Data di consegna dell'informativa"), validators=[Optional(), not_in_future]
    )
    confirm_not_duplicate = BooleanField(
        _l("Ho verificato: non si tratta delle stesse persone già registrate")
    )

    def validate_members(self, field: FieldList) -> None:
        references = [m for m in field.entries if m.form.relation.data == "reference"]
        if len(references) != 1:
            raise ValidationError(_l("Indica una e una sola persona di riferimento."))
        codes = [m.form.codice_fiscale.data for m in field.entries if m.form.codice_fiscale.data]
        if len(codes) != len(set(codes)):
            raise ValidationError(_l("Lo stesso codice fiscale compare due volte."))

    def validate_privacy_notice_on(self, field: DateField) -> None:
        if self.privacy_notice_given.data and not field.data:
            raise ValidationError(_l("Indica la data di consegna dell'informativa."))


class ConsentForm(IdempotencyKeyMixin, FlaskForm):
    """A consent of the ledger: purpose, recipient (empty: the whole network), given, expires
    (proposed 12 months after the signature), and where the signed form is."""

    purpose = SelectField(
        _l("Finalità"),
        choices=choices(CONSENT_PURPOSES),
        validators=[DataRequired(_l("Scegli la finalità."))],
    )
    recipient = SelectField(
        _l("Destinatario"),
        choices=[],
        validate_choice=True,
        description=_l("«Tutta la rete» vale per ogni ente del progetto."),
    )
    given_on = DateField(
        _l("Data della firma"),
        validators=[InputRequired(_l("Inserisci una data valida (gg/mm/aaaa).")), not_in_future],
    )
    expires_on = DateField(
        _l("Scadenza"),
        validators=[InputRequired(_l("Inserisci la scadenza (gg/mm/aaaa)."))],
        description=_l(
            "Proposta: 12 mesi dalla firma. Dopo la scadenza i dati non si condividono."
        ),
    )
    signed_form = StringField(
        _l("Modulo firmato (protocollo o riferimento)"),
        validators=[
            DataRequired(_l("Indica dove si trova il modulo firmato (protocollo o riferimento).")),
            Length(max=200, message=_l("Al massimo 200 caratteri.")),
            no_markup,
        ],
    )

    def validate_expires_on(self, field: DateField) -> None:
        if field.data and self.given_on.data and field.data < self.given_on.data:
            raise ValidationError(_l("La scadenza non può precedere la data della firma."))
        if field.data and field.data < today():
            raise ValidationError(_l("La scadenza è già passata: il consenso non varrebbe."))


class WithdrawConsentForm(FlaskForm):
    confirm = BooleanField(
        _l("Confermo che il nucleo ha revocato questo consenso"),
        validators=[DataRequired(_l("Conferma la revoca spuntando la casella."))],
    )


class DateOnlyForm(FlaskForm):
    on = DateField(
        _l("Data"),
        validators=[InputRequired(_l("Inserisci una data valida (gg/mm/aaaa).")), not_in_future],
    )


class CloseForm(FlaskForm):
    """Closing a household: the day, a coded reason and a note (needed for "altro")."""

    on = DateField(
        _l("Data di chiusura"),
        validators=[InputRequired(_l("Inserisci una data valida (gg/mm/aaaa).")), not_in_future],
    )
    reason = SelectField(
        _l("Motivo della chiusura"),
        choices=[
            SelectChoice("", _l("Scegli il motivo")),
            *(SelectChoice(code, label) for code, label in CLOSING_REASONS.items()),
        ],
        validate_choice=False,
        validators=[DataRequired(_l("Scegli il motivo della chiusura."))],
    )
    note = TextAreaField(
        _l("Nota"),
        validators=[Length(max=1000, message=_l("Al massimo 1000 caratteri."))],
        description=_l("Obbligatoria se il motivo è «altro»."),
    )

    def validate_reason(self, field: SelectField) -> None:
        if field.data not in CLOSING_REASONS:
            raise ValidationError(_l("Scegli il motivo della chiusura."))

    def validate_note(self, field: TextAreaField) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Scrivi perché chiudi la presa in carico."))


class ReopenForm(FlaskForm):
    """Reopening a closed household: a note saying why, for the audit log."""

    note = TextAreaField(
        _l("Perché riapri il nucleo"),
        validators=[
            DataRequired(_l("Scrivi perché riapri il nucleo.")),
            Length(max=1000, message=_l("Al massimo 1000 caratteri.")),
        ],
    )


class JointCareForm(IdempotencyKeyMixin, FlaskForm):
    codice_fiscale = StringField(validators=[DataRequired(), Length(max=32)])
    message = TextAreaField(_l("Messaggio per la Città"), validators=[Optional(), Length(max=1000)])


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Nota"), validators=[Optional(), Length(max=1000)])
