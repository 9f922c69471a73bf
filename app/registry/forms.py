"""Registry forms: organization profile, accreditation, services, sites."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.i18n import lazy_gettext as _l
from app.registry.models import CIRCOSCRIZIONI
from app.registry.validation import normalise_tax_code, tax_code_problem
from app.registry.vocabulary import (
    LANGUAGES,
    LEGAL_FORMS,
    RUNTS_SECTIONS,
    SERVICE_TYPES,
    WEEKDAYS,
)
from app.web.fields import WholeNumberField, no_control_characters


def choices(mapping: Mapping[str, object], empty: object | None = None) -> list[SelectChoice]:
    options = [SelectChoice(code, label) for code, label in mapping.items()]  # type: ignore[arg-type]
    if empty is not None:
        options.insert(0, SelectChoice("", empty))  # type: ignore[arg-type]
    return options


def circoscrizione_choices(empty: object | None = None) -> list[SelectChoice]:
    return choices({str(n): f"{n} · {name}" for n, name in CIRCOSCRIZIONI.items()}, empty)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# Control characters (and, in codes, invisible format characters): refused in every text.
single_line = no_control_characters()
text_area = no_control_characters(lines=True)
identifier = no_control_characters(identifier=True)


def no_markup(form: FlaskForm, field: StringField) -> None:
    if field.data and ("<" in field.data or ">" in field.data):
        raise ValidationError(_l("Non usare i caratteri < e >."))


class OrganizationForm(FlaskForm):
    name = StringField(
        _l("Denominazione"),
        validators=[
            DataRequired(_l("Inserisci la denominazione.")),
            Length(max=200),
            single_line,
            no_markup,
        ],
    )
    legal_form = SelectField(
        _l("Forma giuridica"),
        choices=choices(LEGAL_FORMS, _l("Scegli la forma giuridica")),
        validators=[DataRequired(_l("Scegli la forma giuridica."))],
    )
    tax_code = StringField(
        _l("Codice fiscale o partita IVA"),
        validators=[
            DataRequired(_l("Inserisci il codice fiscale dell'ente.")),
            Length(max=32),
            identifier,
        ],
        description=_l("11 cifre, senza spazi."),
    )
    runts_section = SelectField(
        _l("Sezione RUNTS"), choices=choices(RUNTS_SECTIONS, _l("Non iscritto al RUNTS"))
    )
    runts_number = StringField(
        _l("Numero di iscrizione RUNTS"),
        validators=[Optional(), Length(max=32), identifier, no_markup],
    )
    address = StringField(
        _l("Indirizzo della sede legale"),
        validators=[
            DataRequired(_l("Inserisci l'indirizzo.")),
            Length(max=200),
            single_line,
            no_markup,
        ],
    )
    postal_code = StringField(
        _l("CAP"),
        validators=[Optional(), Regexp(r"^\d{5}$", message=_l("Il CAP ha 5 cifre."))],
    )
    circoscrizione = SelectField(
        _l("Circoscrizione"),
        choices=circoscrizione_choices(_l("Scegli la circoscrizione")),
        validators=[DataRequired(_l("Scegli la circoscrizione."))],
    )
    phone = StringField(
        _l("Telefono"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9 +./()-]+$", message=_l("Usa solo cifre, spazi e + . / ( ) -")),
        ],
    )
    email = EmailField(
        _l("Email"),
        validators=[
            Optional(),
            Email(_l("Indirizzo email non valido."), check_deliverability=False),
            Length(max=254),
        ],
    )
    website = URLField(
        _l("Sito web"),
        validators=[
            Optional(),
            identifier,
            URL(message=_l("Indirizzo web non valido: deve iniziare con https://")),
            Length(max=300),
        ],
    )
    description = TextAreaField(
        _l("Descrizione delle attività"), validators=[Optional(), Length(max=4000), text_area]
    )
    is_job_service = BooleanField(_l("Servizio al lavoro accreditato"))
    is_hub = BooleanField(_l("Snodo Torino Solidale"))
    is_housing_provider = BooleanField(_l("Gestore di alloggi"))

    def validate_tax_code(self, field: StringField) -> None:
        problem = tax_code_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
        field.data = normalise_tax_code(field.data or "")

    def validate_website(self, field: URLField) -> None:
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("Indirizzo web non valido: deve iniziare con https://"))


class AccreditationForm(FlaskForm):
    regional_number = StringField(
        _l("Numero di accreditamento regionale"),
        validators=[
            DataRequired(_l("Inserisci il numero di accreditamento.")),
            Length(max=40),
            identifier,
            no_markup,
        ],
    )
    granted_on = DateField(
        _l("Data di concessione"),
        validators=[InputRequired(_l("Inserisci una data valida (gg/mm/aaaa)."))],
    )
    expires_on = DateField(
        _l("Data di scadenza"),
        validators=[InputRequired(_l("Inserisci una data valida (gg/mm/aaaa)."))],
    )
    fn_information = BooleanField(_l("Informazione"))
    fn_counselling = BooleanField(_l("Consulenza"))
    fn_orientation = BooleanField(_l("Orientamento"))
    fn_secretariat = BooleanField(_l("Segretariato"))

    def validate_expires_on(self, field: DateField) -> None:
        if field.data and self.granted_on.data and field.data <= self.granted_on.data:
            raise ValidationError(_l("La scadenza deve essere successiva alla concessione."))

    def validate_fn_information(self, field: BooleanField) -> None:
        if not any(
            f.data
            for f in (
                self.fn_information,
                self.fn_counselling,
                self.fn_orientation,
                self.fn_secretariat,
            )
        ):
            raise ValidationError(_l("Indica almeno una funzione accreditata."))


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivazione"),
        validators=[DataRequired(_l("Scrivi la motivazione.")), Length(max=500), text_area],
    )


class ServiceForm(FlaskForm):
    name = StringField(
        _l("Nome del servizio"),
        validators=[
            DataRequired(_l("Inserisci il nome del servizio.")),
            Length(max=200),
            single_line,
            no_markup,
        ],
    )
    service_type = SelectField(
        _l("Tipo di servizio"),
        choices=choices(SERVICE_TYPES, _l("Scegli il tipo")),
        validators=[DataRequired(_l("Scegli il tipo di servizio."))],
    )
    description = TextAreaField(
        _l("Descrizione"), validators=[Optional(), Length(max=4000), text_area]
    )
    languages = MultiCheckboxField(
        _l("Lingue parlate"),
        choices=choices(LANGUAGES),
        validators=[DataRequired(_l("Indica almeno una lingua."))],
    )
    age_min = WholeNumberField(
        _l("Età minima"),
        validators=[Optional(), NumberRange(0, 120, _l("Un'età tra 0 e 120 anni."))],
    )
    age_max = WholeNumberField(
        _l("Età massima"),
        validators=[Optional(), NumberRange(0, 120, _l("Un'età tra 0 e 120 anni."))],
    )
    youth_focus = BooleanField(_l("Rivolto ai giovani (18-29 anni)"))
    neet_focus = BooleanField(_l("Rivolto a giovani NEET"))
    monthly_capacity = WholeNumberField(
        _l("Posti al mese"),
        validators=[
            InputRequired(_l("Indica quanti invii al mese il servizio può accogliere.")),
            NumberRange(0, 10000, _l("Un numero intero, zero o più.")),
        ],
    )
    active = BooleanField(_l("Servizio attivo"), default=True)
    sites = MultiCheckboxField(_l("Sedi in cui è offerto"), coerce=int, validate_choice=False)

    def validate_age_max(self, field: IntegerField) -> None:
        if (
            field.data is not None
            and self.age_min.data is not None
            and field.data < self.age_min.data
        ):
            raise ValidationError(_l("L'età massima non può essere minore di quella minima."))

    def validate_sites(self, field: MultiCheckboxField) -> None:
        allowed = {choice.value for choice in field.choices}  # type: ignore[union-attr]
        if any(site_id not in allowed for site_id in field.data or []):
            raise ValidationError(_l("Scegli solo sedi del tuo ente."))


class SiteForm(FlaskForm):
    name = StringField(
        _l("Nome della sede"),
        validators=[
            DataRequired(_l("Inserisci il nome della sede.")),
            Length(max=200),
            single_line,
            no_markup,
        ],
    )
    address = StringField(
        _l("Indirizzo"),
        validators=[
            DataRequired(_l("Inserisci l'indirizzo.")),
            Length(max=200),
            single_line,
            no_markup,
        ],
    )
    postal_code = StringField(
        _l("CAP"), validators=[Optional(), Regexp(r"^\d{5}$", message=_l("Il CAP ha 5 cifre."))]
    )
    circoscrizione = SelectField(
        _l("Circoscrizione"),
        choices=circoscrizione_choices(_l("Scegli la circoscrizione")),
        validators=[DataRequired(_l("Scegli la circoscrizione."))],
    )
    opening_hours = StringField(
        _l("Orari di apertura"),
        validators=[Optional(), Length(max=500), single_line, no_markup],
        description=_l("Per esempio: lun-ven 9:00-13:00; mar e gio 14:30-17:30"),
    )
    phone = StringField(
        _l("Telefono"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9 +./()-]+$", message=_l("Usa solo cifre, spazi e + . / ( ) -")),
        ],
    )
    is_hub = BooleanField(_l("Snodo Torino Solidale (distribuzione di panieri)"))
    distribution_days = MultiCheckboxField(_l("Giorni di distribuzione"), choices=choices(WEEKDAYS))
    households_served = WholeNumberField(
        _l("Nuclei serviti"),
        validators=[Optional(), NumberRange(0, 100000, _l("Un numero intero, zero o più."))],
    )

    def validate_distribution_days(self, field: MultiCheckboxField) -> None:
        if self.is_hub.data and not field.data:
            raise ValidationError(_l("Uno snodo indica almeno un giorno di distribuzione."))
