"""Registry rows as Open Referral HSDS 3.0 objects, with 3.1's service `capacities`: pure
functions, no queries, no requests.

Ids are the `uuid` columns. Objects without a row of their own (a service's language, the link
between a service and a site, an address, a phone, an identifier) get a uuid5 derived from the row
they belong to, so the same object keeps the same id in every answer. Absent values are left out
rather than sent as null: the schemas type them as strings or numbers.

Labels come from the vocabularies through gettext: call these inside `force_locale("it")` so the
data reads the same whoever asks (the taxonomy terms declare `language: "it"`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app.i18n import gettext as _
from app.registry.models import CIRCOSCRIZIONI, Organization, Service, Site
from app.registry.vocabulary import LANGUAGES, LEGAL_FORMS, ORGANIZATION_KINDS, SERVICE_TYPES

Json = dict[str, Any]

HSDS_VERSION = "3.0"
# Fixed namespace of the derived ids: changing it changes every derived id.
ID_NAMESPACE = uuid.UUID("c6d02f27-a5c6-4943-9bec-a0219354292c")

CITY = "Torino"
REGION = "Piemonte"
PROVINCE = "TO"
COUNTRY = "IT"
ACCREDITATION_SCHEME = "IT-PIE-ACCR-LAVORO"
TAX_CODE_SCHEME = "IT-CF"
SERVICE_TYPE_TAXONOMY = "reti-inclusione-torino/service_type"
# The unit of a service's capacity (HSDS 3.1): referral places per month.
UNIT_SCHEME = "reti-inclusione-torino/unit"
PLACES_UNIT_CODE = "posti_al_mese"


def derived_id(*parts: str) -> str:
    """A stable uuid for an object that has no row (and so no uuid column) of its own."""
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(parts)))


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z: 2024-05-31T08:30:00.000Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _compact(values: Json) -> Json:
    return {key: value for key, value in values.items() if value is not None and value != []}


def _label(vocabulary: dict[str, Any], code: str | None) -> str | None:
    if code is None:
        return None
    return str(vocabulary.get(code, code))


# Organizations ---------------------------------------------------------------------------------


def _entity_tax_code(org: Organization) -> str | None:
    """The tax code of an entity (11 digits). A 16-character codice fiscale is a person's: it is
    personal data and stays out of the API."""
    code = org.tax_code
    if code and len(code) == 11 and code.isdigit():
        return code
    return None


def _is_web_address(value: str | None) -> bool:
    return value is not None and value.lower().startswith(("https://", "http://"))


def organization_summary(org: Organization) -> Json:
    """The one-to-one fields of an organization (HSDS `organization_list`)."""
    kinds = ", ".join(str(ORGANIZATION_KINDS[kind]) for kind in org.kinds)
    return _compact(
        {
            "id": org.uuid,
            "name": org.name,
            "description": org.description or kinds,
            "email": org.email if org.email and "@" in org.email else None,
            "website": org.website if _is_web_address(org.website) else None,
            "tax_id": _entity_tax_code(org),
            "legal_status": _label(LEGAL_FORMS, org.legal_form),
        }
    )


def organization_identifiers(org: Organization, today: date) -> list[Json]:
    """The accreditation in force (regional number), the entity's tax code, the RUNTS number."""
    identifiers: list[Json] = []
    accreditation = org.accreditation
    if accreditation is not None and accreditation.effective_status(today) == "active":
        identifiers.append(
            {
                "id": derived_id("organization", org.uuid, "identifier", ACCREDITATION_SCHEME),
                "organization_id": org.uuid,
                "identifier_scheme": ACCREDITATION_SCHEME,
                "identifier_type": _("Accreditamento regionale servizi al lavoro"),
                "identifier": accreditation.regional_number,
            }
        )
    tax_code = _entity_tax_code(org)
    if tax_code:
        identifiers.append(
            {
                "id": derived_id("organization", org.uuid, "identifier", TAX_CODE_SCHEME),
                "organization_id": org.uuid,
                "identifier_scheme": TAX_CODE_SCHEME,
                "identifier_type": _("Codice fiscale"),
                "identifier": tax_code,
            }
        )
    if org.runts_number:
        identifiers.append(
            {
                "id": derived_id("organization", org.uuid, "identifier", "RUNTS"),
                "organization_id": org.uuid,
                "identifier_type": _("Registro unico nazionale del Terzo settore (RUNTS)"),
                "identifier": org.runts_number,
            }
        )
    return identifiers


def _organization_phones(org: Organization) -> list[Json]:
    if not org.phone:
        return []
    return [
        {
            "id": derived_id("organization", org.uuid, "phone"),
            "organization_id": org.uuid,
            "number": org.phone,
        }
    ]


def nested_organization(org: Organization, today: date) -> Json:
    """An organization as nested in a service: its fields, identifiers and phone."""
    return _compact(
        {
            **organization_summary(org),
            "organization_identifiers": organization_identifiers(org, today),
            "phones": _organization_phones(org),
        }
    )


def organization_detail(
    org: Organization, services: Sequence[Service], sites: Sequence[Site], today: date
) -> Json:
    """The fully nested organization (HSDS `organization`): its sites and its services."""
    return {
        **nested_organization(org, today),
        "locations": [location(site, org) for site in sites],
        "services": [service_summary(service) for service in services],
    }


# Locations -------------------------------------------------------------------------------------


def location(site: Site, org: Organization) -> Json:
    """A site (sede) or hub (snodo) as an HSDS physical location, with its opening hours."""
    district = _(
        "Circoscrizione %(n)d: %(areas)s",
        n=site.circoscrizione,
        areas=CIRCOSCRIZIONI.get(site.circoscrizione, ""),
    )
    description = f"{site.address}, {CITY}. {district}."
    if site.is_hub:
        description += f" {ORGANIZATION_KINDS['hub']}."
    addresses = []
    if site.postal_code:
        addresses.append(
            {
                "id": derived_id("site", site.uuid, "address"),
                "location_id": site.uuid,
                "address_1": site.address,
                "city": CITY,
                "region": REGION,
                "state_province": PROVINCE,
                "postal_code": site.postal_code,
                "country": COUNTRY,
                "address_type": "physical",
            }
        )
    phones = []
    if site.phone:
        phones.append(
            {
                "id": derived_id("site", site.uuid, "phone"),
                "location_id": site.uuid,
                "number": site.phone,
            }
        )
    schedules = []
    if site.opening_hours:
        schedules.append(
            {
                "id": derived_id("site", site.uuid, "schedule"),
                "location_id": site.uuid,
                "description": site.opening_hours,
            }
        )
    return _compact(
        {
            "id": site.uuid,
            "location_type": "physical",
            "organization_id": org.uuid if site.organization_id == org.id else None,
            "name": site.name,
            "description": description,
            "addresses": addresses,
            "phones": phones,
            "schedules": schedules,
        }
    )


# Services --------------------------------------------------------------------------------------


def last_modified(service: Service) -> datetime:
    """When the service or anything shown with it (organization, accreditation, sites) changed."""
    moments = [service.updated_at, service.organization.updated_at]
    if service.organization.accreditation is not None:
        moments.append(service.organization.accreditation.updated_at)
    moments.extend(site.updated_at for site in service.sites)
    return max(moments)


def eligibility_description(service: Service) -> str | None:
    parts = []
    if service.age_min is not None and service.age_max is not None:
        parts.append(_("Età da %(min)d a %(max)d anni.", min=service.age_min, max=service.age_max))
    elif service.age_min is not None:
        parts.append(_("Età minima %(min)d anni.", min=service.age_min))
    elif service.age_max is not None:
        parts.append(_("Età massima %(max)d anni.", max=service.age_max))
    if service.youth_focus:
        parts.append(_("Rivolto in particolare ai giovani dai 18 ai 29 anni."))
    if service.neet_focus:
        parts.append(
            _(
                "Rivolto in particolare ai giovani NEET, che non studiano, non lavorano "
                "e non sono in formazione."
            )
        )
    return " ".join(parts) or None


def service_summary(service: Service) -> Json:
    """The one-to-one fields of a service (HSDS `service_list` without the organization)."""
    return _compact(
        {
            "id": service.uuid,
            "organization_id": service.organization.uuid,
            "name": service.name,
            "description": service.description or None,
            "status": "active" if service.active else "inactive",
            "eligibility_description": eligibility_description(service),
            "minimum_age": service.age_min,
            "maximum_age": service.age_max,
            "assured_date": service.last_verified.isoformat() if service.last_verified else None,
            "last_modified": iso_utc(last_modified(service)),
        }
    )


def service_list_item(service: Service) -> Json:
    """A service in a paginated list (HSDS `service_list`): its fields and its organization."""
    return {**service_summary(service), "organization": organization_summary(service.organization)}


def service_type_attribute(service: Service) -> Json:
    """The service type as an HSDS attribute with its taxonomy term (code and Italian label)."""
    term_id = derived_id("taxonomy_term", SERVICE_TYPE_TAXONOMY, service.service_type)
    label = _label(SERVICE_TYPES, service.service_type)
    return {
        "id": derived_id("service", service.uuid, "attribute", "service_type"),
        "link_id": service.uuid,
        "link_type": "service_type",
        "link_entity": "service",
        "taxonomy_term_id": term_id,
        "taxonomy_term": {
            "id": term_id,
            "code": service.service_type,
            "name": label,
            "description": label,
            "taxonomy": SERVICE_TYPE_TAXONOMY,
            "language": "it",
        },
    }


def service_languages(service: Service) -> list[Json]:
    return [
        {
            "id": derived_id("service", service.uuid, "language", code),
            "service_id": service.uuid,
            "name": _label(LANGUAGES, code),
            "code": code,
        }
        for code in service.languages or []
    ]


def service_at_locations(service: Service) -> list[Json]:
    return [
        {
            "id": derived_id("service_at_location", service.uuid, site.uuid),
            "service_id": service.uuid,
            "location_id": site.uuid,
            "location": location(site, service.organization),
        }
        for site in service.sites
    ]


@dataclass(frozen=True)
class Capacity:
    """A service's monthly places: the maximum, those left this month (accepted referrals and
    those in flight take one, `referrals.queries.places_left`), when it last changed."""

    maximum: int
    available: int
    updated: datetime


def service_capacities(service: Service, capacity: Capacity | None) -> list[Json]:
    """HSDS 3.1 `capacities`: the referral places of this month ("posti al mese")."""
    if capacity is None:
        return []
    return [
        {
            "id": derived_id("service", service.uuid, "capacity", PLACES_UNIT_CODE),
            "service_id": service.uuid,
            "unit": places_unit(),
            "unit_id": derived_id("unit", PLACES_UNIT_CODE),
            "available": capacity.available,
            "maximum": capacity.maximum,
            "description": _(
                "Posti per le segnalazioni nel mese in corso: %(available)d liberi su %(maximum)d.",
                available=capacity.available,
                maximum=capacity.maximum,
            ),
            "updated": iso_utc(capacity.updated),
        }
    ]


def places_unit() -> Json:
    return {
        "id": derived_id("unit", PLACES_UNIT_CODE),
        "name": _("posti al mese"),
        "scheme": UNIT_SCHEME,
        "identifier": PLACES_UNIT_CODE,
    }


def service_detail(service: Service, today: date, capacity: Capacity | None = None) -> Json:
    """The fully nested service (HSDS `service`), with its 3.1 `capacities`."""
    return _compact(
        {
            **service_summary(service),
            "organization": nested_organization(service.organization, today),
            "languages": service_languages(service),
            "service_at_locations": service_at_locations(service),
            "attributes": [service_type_attribute(service)],
            "capacities": service_capacities(service, capacity),
        }
    )


def service_minimal(service: Service) -> Json:
    """`minimal=true`: only the id and when the service last changed."""
    return {"id": service.uuid, "last_modified": iso_utc(last_modified(service))}


# Taxonomies ------------------------------------------------------------------------------------


def service_type_taxonomy_id() -> str:
    return derived_id("taxonomy", SERVICE_TYPE_TAXONOMY)


def service_type_term_id(code: str) -> str:
    return derived_id("taxonomy_term", SERVICE_TYPE_TAXONOMY, code)


def taxonomy() -> Json:
    """The portal's one taxonomy: the types of service of the registry."""
    return {
        "id": service_type_taxonomy_id(),
        "name": SERVICE_TYPE_TAXONOMY,
        "description": _(
            "Tipi di servizio del registro degli enti accreditati della rete (Città di Torino)."
        ),
        "version": "1",
    }


def taxonomy_term(code: str, *, with_taxonomy: bool = False) -> Json:
    label = _label(SERVICE_TYPES, code)
    term: Json = {
        "id": service_type_term_id(code),
        "code": code,
        "name": label,
        "description": label,
        "taxonomy": SERVICE_TYPE_TAXONOMY,
        "taxonomy_id": service_type_taxonomy_id(),
        "language": "it",
    }
    if with_taxonomy:
        term["taxonomy_detail"] = taxonomy()
    return term


def service_type_codes() -> list[str]:
    return list(SERVICE_TYPES)


# Services at locations -------------------------------------------------------------------------


def service_at_location_id(service: Service, site: Site) -> str:
    return derived_id("service_at_location", service.uuid, site.uuid)


def service_at_location_item(service: Service, site: Site) -> Json:
    """A service at a location (HSDS `service_at_location_list`): the link and both ends."""
    return {
        "id": service_at_location_id(service, site),
        "service_id": service.uuid,
        "location_id": site.uuid,
        "service": service_list_item(service),
        "location": location(site, service.organization),
    }


def service_at_location_detail(
    service: Service, site: Site, today: date, capacity: Capacity | None = None
) -> Json:
    """The fully nested service at a location (HSDS `service_at_location`)."""
    return {
        "id": service_at_location_id(service, site),
        "service_id": service.uuid,
        "location_id": site.uuid,
        "service": service_detail(service, today, capacity),
        "location": location(site, service.organization),
        "attributes": [service_type_attribute(service)],
    }


# Pages -----------------------------------------------------------------------------------------


def page(contents: list[Json], total_items: int, page_number: int, per_page: int) -> Json:
    """The HSDS page object: counts, flags and this page's contents."""
    total_pages = -(-total_items // per_page)
    return {
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }
