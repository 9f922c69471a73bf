"""Every route × every role: the answer each one gets. A new route without a row fails here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.clock import today
from app.db import utcnow
from app.downloads.models import ExportFile
from app.extensions import db as _db
from app.households.models import Consent, HouseholdCoHolder, JointCareRequest
from app.housing.models import HousingRiskCase, HousingUnit, Placement, WellbeingCheck
from app.projects.models import BudgetLine, Project, ProjectGoal
from app.referrals.models import Referral
from app.supplies import operations as supply_operations
from tests import factories
from tests.conftest import csrf_token_from

ROLES = ("anonymous", "admin", "coordinator", "entity_operator", "housing_provider")
EXEMPT = {"static"}  # the vendored CSS, JS and fonts are public on purpose


def answers(anonymous, admin, coordinator, entity_operator, housing_provider):
    return dict(
        zip(ROLES, (anonymous, admin, coordinator, entity_operator, housing_provider), strict=True)
    )


STAFF = answers(303, 200, 200, 200, 200)
READERS = answers(303, 200, 200, 200, 200)
API = answers(401, 200, 200, 200, 200)
API_UNKNOWN = answers(401, 404, 404, 404, 404)
# Another organization's edit pages: the City may, an operator gets 404 (not there for them).
CITY_EDITS = answers(303, 403, 200, 404, 404)
CITY_EDIT_POSTS = answers(303, 403, 422, 404, 404)
CITY_ONLY = answers(303, 403, 200, 403, 403)
HOUSEHOLD_READERS = answers(303, 403, 200, 200, 403)
# Another organization's household: the City reads it; an operator gets 404; no one else gets in.
OTHER_HOUSEHOLD = answers(303, 403, 200, 404, 403)
OWNER_ONLY = answers(303, 403, 403, 404, 403)
OPERATOR_ONLY = answers(303, 403, 403, 200, 403)
ADMIN_ONLY = answers(303, 200, 403, 403, 403)
ADMIN_WRITE = answers(303, 303, 403, 403, 403)
HOUSING_USERS = answers(303, 403, 200, 200, 200)
AUDIT_READERS = answers(303, 200, 200, 403, 403)
PROVIDER_ONLY = answers(303, 403, 403, 403, 200)
# Another provider's unit: a provider gets 404 (not theirs); nobody else edits units.
OTHER_PROVIDERS_UNIT = answers(303, 403, 403, 403, 404)
OTHER_PLACEMENT = answers(303, 403, 200, 404, 404)
OTHER_HOUSEHOLD_CASE = answers(303, 403, 200, 404, 403)
OTHER_HOUSEHOLD_CASE_POST = answers(303, 403, 422, 404, 403)

# (endpoint, method) -> (path, expected status per role). "{user}" is another user's id;
# "{org}", "{service}", "{site}" belong to an organization none of the logged-in users is in;
# "{referral}" is a submitted referral of {household} to a service of another such organization.
MATRIX: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    ("web.healthz", "GET"): ("/healthz", answers(200, 200, 200, 200, 200)),
    ("web.set_language", "POST"): ("/lingua", answers(303, 303, 303, 303, 303)),
    ("auth.login", "GET"): ("/login", answers(200, 302, 302, 302, 302)),
    ("auth.login", "POST"): ("/login", answers(422, 302, 302, 302, 302)),
    ("auth.logout", "POST"): ("/logout", answers(303, 303, 303, 303, 303)),
    ("auth.login_totp", "GET"): ("/login/2fa", answers(303, 302, 302, 302, 302)),
    # Single sign-on is not configured here (tests/test_auth_sso.py runs it): no such provider.
    ("auth.sso_start", "GET"): ("/login/sso/city", answers(404, 302, 302, 302, 302)),
    ("auth.sso_callback", "GET"): ("/login/sso/city/callback", answers(404, 404, 404, 404, 404)),
    ("auth.login_totp", "POST"): ("/login/2fa", answers(303, 302, 302, 302, 302)),
    ("auth.totp_setup", "GET"): ("/account/2fa", STAFF),
    ("auth.totp_setup", "POST"): ("/account/2fa", answers(303, 422, 422, 422, 422)),
    ("auth.totp_disable", "POST"): ("/account/2fa/disable", answers(303, 303, 303, 303, 303)),
    ("auth.recovery_codes", "POST"): (
        "/account/2fa/recovery-codes",
        answers(303, 303, 303, 303, 303),
    ),
    ("auth.account", "GET"): ("/account", STAFF),
    ("auth.csrf_token", "GET"): ("/account/csrf-token", answers(401, 200, 200, 200, 200)),
    ("auth.logged_in_again", "GET"): ("/account/logged-in-again", STAFF),
    ("auth.account", "POST"): ("/account", answers(303, 422, 422, 422, 422)),
    ("home.index", "GET"): ("/", STAFF),
    # The accessibility statement is public, like that of any public-administration site.
    ("web.accessibility", "GET"): ("/accessibilita", answers(200, 200, 200, 200, 200)),
    ("admin.users", "GET"): ("/admin/", ADMIN_ONLY),
    ("admin.new_user", "GET"): ("/admin/users/new", ADMIN_ONLY),
    ("admin.settings_page", "GET"): ("/admin/settings", ADMIN_ONLY),
    ("admin.linked_identities", "GET"): ("/admin/sso", ADMIN_ONLY),
    ("admin.unlink_identity", "POST"): (
        "/admin/sso/999999/unlink",
        answers(303, 404, 403, 403, 403),
    ),
    # An empty form: the admin gets the page back with the messages.
    ("admin.settings_page", "POST"): ("/admin/settings", answers(303, 422, 403, 403, 403)),
    # Notifications: everyone who may be asked to act; not the admin.
    ("notifications.index", "GET"): ("/notifications/", answers(303, 403, 200, 200, 200)),
    ("notifications.read_all", "POST"): (
        "/notifications/read-all",
        answers(303, 403, 303, 303, 303),
    ),
    # Another user's export prepared in the background: nobody else sees it exists.
    ("downloads.progress", "GET"): ("/exports/{export}", answers(303, 404, 404, 404, 404)),
    ("downloads.download", "GET"): ("/exports/{export}/file", answers(303, 404, 404, 404, 404)),
    # The e-mail choice: sent without a choice, the recipients get the form back (422).
    ("notifications.email_preference", "POST"): (
        "/notifications/email",
        answers(303, 403, 422, 422, 422),
    ),
    ("admin.new_user", "POST"): ("/admin/users/new", answers(303, 422, 403, 403, 403)),
    ("admin.edit_user", "GET"): ("/admin/users/{user}", ADMIN_ONLY),
    ("admin.edit_user", "POST"): ("/admin/users/{user}", answers(303, 422, 403, 403, 403)),
    ("admin.disable_user", "POST"): ("/admin/users/{user}/disable", ADMIN_WRITE),
    ("admin.enable_user", "POST"): ("/admin/users/{user}/enable", ADMIN_WRITE),
    # {user} is a coordinator: the admin's reset waits for another coordinator's confirmation.
    ("admin.reset_password", "POST"): ("/admin/users/{user}/reset-password", ADMIN_WRITE),
    ("admin.account_requests", "GET"): ("/admin/requests", AUDIT_READERS),
    ("admin.account_request", "GET"): (
        "/admin/requests/999999",
        answers(303, 404, 404, 403, 403),
    ),
    # Only coordinators decide: the admin who asks never confirms.
    ("admin.confirm_request", "POST"): (
        "/admin/requests/999999/confirm",
        answers(303, 403, 404, 403, 403),
    ),
    ("admin.refuse_request", "POST"): (
        "/admin/requests/999999/refuse",
        answers(303, 403, 404, 403, 403),
    ),
    ("api.index", "GET"): ("/api/hsds/", API),
    ("api.services", "GET"): ("/api/hsds/services", API),
    ("api.service", "GET"): (
        "/api/hsds/services/00000000-0000-4000-8000-000000000000",
        API_UNKNOWN,
    ),
    ("api.organizations", "GET"): ("/api/hsds/organizations", API),
    ("api.service_at_locations", "GET"): ("/api/hsds/service_at_locations", API),
    ("api.service_at_location", "GET"): (
        "/api/hsds/service_at_locations/00000000-0000-4000-8000-000000000000",
        API_UNKNOWN,
    ),
    ("api.taxonomies", "GET"): ("/api/hsds/taxonomies", API),
    ("api.taxonomy", "GET"): (
        "/api/hsds/taxonomies/00000000-0000-4000-8000-000000000000",
        API_UNKNOWN,
    ),
    ("api.taxonomy_terms", "GET"): ("/api/hsds/taxonomy_terms", API),
    ("api.taxonomy_term", "GET"): (
        "/api/hsds/taxonomy_terms/00000000-0000-4000-8000-000000000000",
        API_UNKNOWN,
    ),
    ("api.organization", "GET"): (
        "/api/hsds/organizations/00000000-0000-4000-8000-000000000000",
        API_UNKNOWN,
    ),
    ("registry.index", "GET"): ("/entities/", READERS),
    ("registry.export_csv", "GET"): ("/entities/export.csv", READERS),
    ("registry.new_organization", "GET"): ("/entities/new", CITY_ONLY),
    ("registry.new_organization", "POST"): ("/entities/new", answers(303, 403, 422, 403, 403)),
    ("registry.detail", "GET"): ("/entities/{org}", READERS),
    ("registry.edit_organization", "GET"): ("/entities/{org}/edit", CITY_EDITS),
    ("registry.edit_organization", "POST"): ("/entities/{org}/edit", CITY_EDIT_POSTS),
    ("registry.edit_accreditation", "GET"): ("/entities/{org}/accreditation", CITY_EDITS),
    ("registry.edit_accreditation", "POST"): ("/entities/{org}/accreditation", CITY_EDIT_POSTS),
    ("registry.accreditation_action", "POST"): (
        "/entities/{org}/accreditation/verify",
        answers(303, 403, 303, 403, 403),
    ),
    ("registry.new_service", "GET"): ("/entities/{org}/services/new", CITY_EDITS),
    ("registry.new_service", "POST"): ("/entities/{org}/services/new", CITY_EDIT_POSTS),
    ("registry.edit_service", "GET"): ("/entities/{org}/services/{service}", CITY_EDITS),
    ("registry.edit_service", "POST"): ("/entities/{org}/services/{service}", CITY_EDIT_POSTS),
    ("registry.service_row", "GET"): (
        "/entities/{org}/services/{service}/row",
        answers(303, 403, 303, 404, 404),
    ),
    ("registry.confirm_service", "POST"): (
        "/entities/{org}/services/{service}/confirm",
        answers(303, 403, 303, 404, 404),
    ),
    ("registry.new_site", "GET"): ("/entities/{org}/sites/new", CITY_EDITS),
    ("registry.new_site", "POST"): ("/entities/{org}/sites/new", CITY_EDIT_POSTS),
    ("registry.edit_site", "GET"): ("/entities/{org}/sites/{site}", CITY_EDITS),
    ("registry.edit_site", "POST"): ("/entities/{org}/sites/{site}", CITY_EDIT_POSTS),
    ("households.index", "GET"): ("/households/", HOUSEHOLD_READERS),
    # The search form posts its text and is sent to the list's URL (the text as a token).
    ("households.index", "POST"): ("/households/", answers(303, 403, 303, 303, 403)),
    ("households.new", "GET"): ("/households/new", OPERATOR_ONLY),
    ("households.new", "POST"): ("/households/new", answers(303, 403, 403, 422, 403)),
    ("households.add_member_row", "POST"): ("/households/new/members/add", OPERATOR_ONLY),
    ("households.remove_member_row", "POST"): ("/households/new/members/remove/0", OPERATOR_ONLY),
    ("households.request_joint_care", "POST"): (
        "/households/joint-care",
        answers(303, 403, 403, 400, 403),
    ),
    ("households.decide_joint_care", "POST"): (
        "/households/joint-care/{joint}/accept",
        answers(303, 403, 303, 403, 403),
    ),
    ("households.end_joint_care", "POST"): (
        "/households/{household}/co-holders/{holder}/end",
        answers(303, 403, 303, 403, 403),
    ),
    ("households.detail", "GET"): ("/households/{household}", OTHER_HOUSEHOLD),
    ("distributions.household_section", "GET"): (
        "/distributions/household/{household}",
        OTHER_HOUSEHOLD,
    ),
    ("referrals.household_section", "GET"): ("/referrals/household/{household}", OTHER_HOUSEHOLD),
    ("projects.household_section", "GET"): ("/projects/household/{household}", OTHER_HOUSEHOLD),
    ("housing.household_section", "GET"): ("/housing/household/{household}", OTHER_HOUSEHOLD),
    ("households.edit", "GET"): ("/households/{household}/edit", OWNER_ONLY),
    ("households.edit", "POST"): ("/households/{household}/edit", OWNER_ONLY),
    ("households.new_member", "GET"): ("/households/{household}/members/new", OWNER_ONLY),
    ("households.new_member", "POST"): ("/households/{household}/members/new", OWNER_ONLY),
    ("households.edit_member", "GET"): ("/households/{household}/members/{person}", OWNER_ONLY),
    ("households.edit_member", "POST"): ("/households/{household}/members/{person}", OWNER_ONLY),
    ("households.privacy_notice", "POST"): ("/households/{household}/privacy-notice", OWNER_ONLY),
    ("households.record_consent", "POST"): ("/households/{household}/consents", OWNER_ONLY),
    ("households.withdraw_consent", "POST"): (
        "/households/{household}/consents/{consent}/withdraw",
        OWNER_ONLY,
    ),
    ("households.close", "GET"): ("/households/{household}/close", OWNER_ONLY),
    ("households.close", "POST"): ("/households/{household}/close", OWNER_ONLY),
    # Reopening a household in charge: nothing to reopen (404), for the City too.
    ("households.reopen", "GET"): (
        "/households/{household}/reopen",
        answers(303, 403, 404, 404, 403),
    ),
    ("households.reopen", "POST"): (
        "/households/{household}/reopen",
        answers(303, 403, 404, 404, 403),
    ),
    ("rights.export_person_json", "GET"): (
        "/households/{household}/people/{person}/export.json",
        CITY_ONLY,
    ),
    ("rights.export_person", "GET"): (
        "/households/{household}/people/{person}/export",
        CITY_ONLY,
    ),
    ("rights.anonymise", "GET"): ("/households/{household}/anonymise", CITY_ONLY),
    ("rights.anonymise", "POST"): (
        "/households/{household}/anonymise",
        answers(303, 403, 409, 403, 403),
    ),
    ("distributions.index", "GET"): ("/distributions/", answers(303, 403, 200, 200, 403)),
    ("distributions.record", "POST"): ("/distributions/", answers(303, 403, 403, 403, 403)),
    ("distributions.find", "GET"): (
        "/distributions/find?q=rossi",
        answers(303, 403, 403, 403, 403),
    ),
    ("distributions.find", "POST"): ("/distributions/find", answers(303, 403, 403, 403, 403)),
    ("distributions.counter_form", "GET"): (
        "/distributions/form",
        answers(303, 403, 403, 403, 403),
    ),
    ("distributions.counts", "GET"): ("/distributions/counts", answers(303, 403, 200, 200, 403)),
    # Scanning a household card: hub operators only (the logged-in operator's entity is none).
    ("distributions.scan", "POST"): ("/distributions/scan", answers(303, 403, 403, 403, 403)),
    # Another organization's household card: not there for an operator; the City does not print.
    # The offline counter: operators of a hub only (none of these users is); its service
    # worker and manifest hold no data and are public, so that the phone can install the page.
    ("counter.index", "GET"): ("/counter/", answers(303, 403, 403, 403, 403)),
    ("counter.service_worker", "GET"): ("/counter/sw.js", answers(200, 200, 200, 200, 200)),
    ("counter.manifest", "GET"): (
        "/counter/manifest.webmanifest",
        answers(200, 200, 200, 200, 200),
    ),
    ("counter.session_key", "GET"): ("/counter/session", answers(401, 403, 403, 403, 403)),
    ("counter.day", "GET"): ("/counter/day", answers(303, 403, 403, 403, 403)),
    ("counter.sync", "POST"): ("/counter/sync", answers(303, 403, 403, 403, 403)),
    ("counter.close", "POST"): ("/counter/close", answers(303, 403, 403, 403, 403)),
    ("counter.entries", "GET"): ("/counter/entries", answers(303, 403, 403, 403, 403)),
    ("counter.resolve", "POST"): ("/counter/entries/1/resolve", answers(303, 403, 403, 403, 403)),
    ("counter.cancel", "POST"): ("/counter/entries/1/cancel", answers(303, 403, 403, 403, 403)),
    ("cards.issue", "POST"): ("/households/{household}/card", OWNER_ONLY),
    ("cards.download", "GET"): ("/households/{household}/card.pdf", OWNER_ONLY),
    ("cards.revoke", "GET"): ("/households/{household}/card/revoke", OWNER_ONLY),
    ("cards.revoke", "POST"): ("/households/{household}/card/revoke", OWNER_ONLY),
    ("referrals.index", "GET"): ("/referrals/", HOUSEHOLD_READERS),
    ("referrals.bulk_approve", "POST"): (
        "/referrals/bulk-approve",
        answers(303, 403, 303, 403, 403),
    ),
    # A referral of {household}: only the household's own entity may refer it.
    ("referrals.new", "GET"): ("/referrals/new?household={household}", OWNER_ONLY),
    ("referrals.new", "POST"): ("/referrals/new?household={household}", OWNER_ONLY),
    # {referral} is submitted: the City sees and decides it; another entity gets 404.
    ("referrals.detail", "GET"): ("/referrals/{referral}", OTHER_HOUSEHOLD),
    # The queue's reject form, fetched by htmx; asked for as a page it leads to the referral's.
    ("referrals.reject_form", "GET"): (
        "/referrals/{referral}/reject-form",
        answers(303, 403, 303, 404, 403),
    ),
    ("referrals.act", "POST"): (
        "/referrals/{referral}/approve",
        answers(303, 403, 303, 404, 403),
    ),
    ("housing.index", "GET"): ("/housing/", HOUSING_USERS),
    ("housing.new_unit", "GET"): ("/housing/units/new", PROVIDER_ONLY),
    ("housing.new_unit", "POST"): ("/housing/units/new", answers(303, 403, 403, 403, 422)),
    ("housing.unit", "GET"): ("/housing/units/{unit}", HOUSING_USERS),
    ("housing.edit_unit", "GET"): ("/housing/units/{unit}/edit", OTHER_PROVIDERS_UNIT),
    ("housing.edit_unit", "POST"): ("/housing/units/{unit}/edit", OTHER_PROVIDERS_UNIT),
    ("housing.vacancies", "POST"): ("/housing/units/{unit}/vacancies", OTHER_PROVIDERS_UNIT),
    ("housing.new_placement", "GET"): (
        "/housing/placements/new?household={household}",
        OTHER_HOUSEHOLD_CASE,
    ),
    ("housing.new_placement", "POST"): (
        "/housing/placements/new?household={household}",
        OTHER_HOUSEHOLD_CASE_POST,
    ),
    ("housing.placements", "GET"): ("/housing/placements/", HOUSING_USERS),
    # {placement} is proposed: the City sees and approves it; others get 404.
    ("housing.placement", "GET"): ("/housing/placements/{placement}", OTHER_PLACEMENT),
    ("housing.placement_step", "POST"): (
        "/housing/placements/{placement}/approve",
        answers(303, 403, 303, 404, 404),
    ),
    ("housing.record_check", "POST"): (
        "/housing/placements/{placement}/checks/{check}",
        answers(303, 403, 422, 404, 404),
    ),
    ("housing.follow_ups", "GET"): ("/housing/follow-ups", HOUSING_USERS),
    ("housing.risk_cases", "GET"): ("/housing/risk-cases", answers(303, 403, 200, 200, 403)),
    ("housing.new_risk_case", "GET"): (
        "/housing/risk-cases/new?household={household}",
        OTHER_HOUSEHOLD_CASE,
    ),
    ("housing.new_risk_case", "POST"): (
        "/housing/risk-cases/new?household={household}",
        OTHER_HOUSEHOLD_CASE_POST,
    ),
    ("housing.risk_case", "GET"): ("/housing/risk-cases/{risk_case}", OTHER_HOUSEHOLD_CASE),
    ("housing.edit_risk_case", "POST"): (
        "/housing/risk-cases/{risk_case}/edit",
        OTHER_HOUSEHOLD_CASE_POST,
    ),
    ("housing.close_risk_case", "POST"): (
        "/housing/risk-cases/{risk_case}/close",
        OTHER_HOUSEHOLD_CASE_POST,
    ),
    ("audit.index", "GET"): ("/audit/", AUDIT_READERS),
    ("audit.export_csv", "GET"): ("/audit/export.csv", AUDIT_READERS),
    ("audit.export_xlsx", "GET"): ("/audit/export.xlsx", AUDIT_READERS),
    ("registry.export_xlsx", "GET"): ("/entities/export.xlsx", READERS),
    ("households.export_csv", "GET"): ("/households/export.csv", HOUSEHOLD_READERS),
    ("households.export_xlsx", "GET"): ("/households/export.xlsx", HOUSEHOLD_READERS),
    ("referrals.export_csv", "GET"): ("/referrals/export.csv", HOUSEHOLD_READERS),
    ("referrals.export_xlsx", "GET"): ("/referrals/export.xlsx", HOUSEHOLD_READERS),
    ("housing.export_csv", "GET"): ("/housing/export.csv", HOUSING_USERS),
    ("housing.export_xlsx", "GET"): ("/housing/export.xlsx", HOUSING_USERS),
    ("housing.export_placements_csv", "GET"): ("/housing/placements/export.csv", HOUSING_USERS),
    ("housing.export_placements_xlsx", "GET"): (
        "/housing/placements/export.xlsx",
        HOUSING_USERS,
    ),
    ("reports.index", "GET"): ("/reports/", CITY_ONLY),
    ("reports.export_csv", "GET"): ("/reports/export.csv", CITY_ONLY),
    ("reports.export_xlsx", "GET"): ("/reports/export.xlsx", CITY_ONLY),
    ("projects.index", "GET"): ("/projects/", HOUSEHOLD_READERS),
    ("projects.export_csv", "GET"): ("/projects/export.csv", HOUSEHOLD_READERS),
    ("distributions.export_csv", "GET"): ("/distributions/export.csv", HOUSEHOLD_READERS),
    ("distributions.export_xlsx", "GET"): ("/distributions/export.xlsx", HOUSEHOLD_READERS),
    # Hub stock: the City and operators read (an operator of a non-hub entity sees a notice);
    # deliveries and adjustments are for hub operators (the test's operator is not one: 403).
    ("supplies.index", "GET"): ("/supplies/", HOUSEHOLD_READERS),
    ("supplies.report", "GET"): ("/supplies/report", HOUSEHOLD_READERS),
    ("supplies.report_csv", "GET"): ("/supplies/report.csv", HOUSEHOLD_READERS),
    ("supplies.report_xlsx", "GET"): ("/supplies/report.xlsx", HOUSEHOLD_READERS),
    ("supplies.new_delivery", "GET"): (
        "/supplies/deliveries/new",
        answers(303, 403, 403, 403, 403),
    ),
    ("supplies.new_delivery", "POST"): (
        "/supplies/deliveries/new",
        answers(303, 403, 403, 403, 403),
    ),
    ("supplies.new_adjustment", "GET"): (
        "/supplies/adjustments/new",
        answers(303, 403, 403, 403, 403),
    ),
    ("supplies.new_adjustment", "POST"): (
        "/supplies/adjustments/new",
        answers(303, 403, 403, 403, 403),
    ),
    # {balance} is the stock of {site}, a hub of an entity none of the users is in.
    ("supplies.movements", "GET"): ("/supplies/stock/{balance}", OTHER_HOUSEHOLD),
    ("supplies.items", "GET"): ("/supplies/items", CITY_ONLY),
    # An empty form: the City gets it back with the message.
    ("supplies.items", "POST"): ("/supplies/items", answers(303, 403, 422, 403, 403)),
    ("projects.export_xlsx", "GET"): ("/projects/export.xlsx", HOUSEHOLD_READERS),
    ("projects.programme", "GET"): ("/projects/programme", CITY_ONLY),
    ("projects.new", "GET"): ("/projects/new?household={household}", OWNER_ONLY),
    ("projects.new", "POST"): ("/projects/new?household={household}", OWNER_ONLY),
    # {project} is submitted: the City reads and approves it; another entity gets 404.
    ("projects.detail", "GET"): ("/projects/{project}", OTHER_HOUSEHOLD),
    ("projects.edit", "GET"): ("/projects/{project}/edit", OWNER_ONLY),
    ("projects.edit", "POST"): ("/projects/{project}/edit", OWNER_ONLY),
    ("projects.act", "POST"): ("/projects/{project}/approve", answers(303, 403, 303, 404, 403)),
    ("projects.add_goal", "POST"): ("/projects/{project}/goals", OWNER_ONLY),
    ("projects.set_goal_status", "POST"): ("/projects/{project}/goals/{goal}", OWNER_ONLY),
    ("projects.add_meeting", "POST"): ("/projects/{project}/meetings", OWNER_ONLY),
    ("projects.add_line", "POST"): ("/projects/{project}/lines", OWNER_ONLY),
    ("projects.edit_line", "GET"): ("/projects/{project}/lines/{line}/edit", OWNER_ONLY),
    ("projects.save_line", "POST"): ("/projects/{project}/lines/{line}", OWNER_ONLY),
    ("projects.line_row", "GET"): (
        "/projects/{project}/lines/{line}/row",
        answers(303, 403, 303, 404, 403),
    ),
    ("projects.remove_line", "POST"): ("/projects/{project}/lines/{line}/delete", OWNER_ONLY),
    ("projects.request_increase", "POST"): (
        "/projects/{project}/lines/{line}/increase",
        OWNER_ONLY,
    ),
    # No increase waits on {line}: the City is refused with 409 (nothing to decide).
    ("projects.decide_increase", "POST"): (
        "/projects/{project}/lines/{line}/increase/approve",
        answers(303, 403, 409, 403, 403),
    ),
}


def test_every_route_has_a_row(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = routes - MATRIX.keys()
    stale = MATRIX.keys() - routes
    assert not missing, f"routes without a row in the role × route table: {sorted(missing)}"
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


CASES = [(key, role) for key in MATRIX for role in ROLES]


@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{k[0]}-{k[1]}-{r}" for k, r in CASES])
def test_role_gets_the_expected_answer(client, login_as, key, role):
    endpoint, method = key
    path, expected = MATRIX[key]
    if role != "anonymous":
        login_as(role)
    other = factories.user(role="coordinator")
    org = factories.organization(name="Ente di nessuno dei presenti")
    factories.accreditation(org, status="pending")
    service = factories.service(org)
    site = factories.site(org)
    household = factories.household(org)
    joint = JointCareRequest(
        household_id=household.id, requesting_organization_id=factories.organization().id
    )
    _db.session.add(joint)
    holder = HouseholdCoHolder(
        household_id=household.id, organization_id=factories.organization().id
    )
    _db.session.add(holder)
    receiving = factories.service(factories.organization(name="Altro ente di nessuno"))
    referral = Referral(
        household_id=household.id,
        person_id=household.members[0].id,
        from_organization_id=org.id,
        service_id=receiving.id,
        to_organization_id=receiving.organization_id,
        need="orientation",
        motivation="Orientamento",
        status="submitted",
        submitted_at=utcnow(),
    )
    _db.session.add(referral)
    unit = HousingUnit(
        provider_id=org.id,
        name="Alloggio di nessuno",
        kind="temporary_flat",
        address="Via Nessuno 1",
        circoscrizione=1,
        capacity=3,
        vacancies=2,
        target_groups=[],
    )
    _db.session.add(unit)
    _db.session.flush()
    placement = Placement(
        household_id=household.id, unit_id=unit.id, provider_id=org.id, status="proposed"
    )
    _db.session.add(placement)
    _db.session.flush()
    check = WellbeingCheck(placement_id=placement.id, due_on=today())
    risk_case = HousingRiskCase(
        household_id=household.id, organization_id=org.id, kind="other", status="open"
    )
    _db.session.add_all([check, risk_case])
    project = Project(
        household_id=household.id,
        person_id=household.members[0].id,
        organization_id=org.id,
        title="Progetto di un altro ente",
        status="submitted",
        submitted_at=utcnow(),
    )
    _db.session.add(project)
    _db.session.flush()
    goal = ProjectGoal(project_id=project.id, description="Lavoro")
    line = BudgetLine(
        project_id=project.id, category="training", description="Corso", planned=Decimal("100.00")
    )
    _db.session.add_all([goal, line])
    export = ExportFile(
        user_id=other.id,
        subject="households",
        kind="csv",
        status="ready",
        content=b"N. nucleo",
        filename='attachment; filename="nuclei.csv"',
        household_ids=[household.id],
    )
    _db.session.add(export)
    site.is_hub = True
    balance = supply_operations.balance_of(site, supply_operations.standard_item("food_basket"))
    _db.session.commit()
    url = path.format(
        export=export.id,
        user=other.id,
        org=org.id,
        service=service.id,
        site=site.id,
        household=household.id,
        person=household.members[0].id,
        joint=joint.id,
        holder=holder.id,
        consent=_db.session.scalar(
            select(Consent.id).where(Consent.household_id == household.id).limit(1)
        ),
        referral=referral.id,
        unit=unit.id,
        placement=placement.id,
        check=check.id,
        risk_case=risk_case.id,
        project=project.id,
        goal=goal.id,
        line=line.id,
        balance=balance.id,
    )
    if method == "GET":
        response = client.get(url)
    else:
        token = csrf_token_from(
            client.get("/login" if role == "anonymous" else "/account").get_data(as_text=True)
        )
        response = client.post(url, data={"csrf_token": token})
    assert response.status_code == expected[role], (endpoint, method, role, response.status_code)
