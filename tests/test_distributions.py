"""The hubs' distribution log: what an operator at the counter and the City see and can do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.clock import today
from app.distributions.models import Distribution
from app.distributions.queries import month_start
from app.extensions import db as _db
from tests import factories
from tests.conftest import csrf_token_from

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


# Helpers ------------------------------------------------------------------------------------


def hub(name: str | None = None, sites: int = 1):
    """An organization running Torino Solidale hubs, and its hub sites."""
    org = factories.organization(is_hub=True, **({"name": name} if name else {}))
    hub_sites = [
        factories.site(
            org, is_hub=True, distribution_days=["tue", "fri"], name=f"Snodo {org.id}-{n}"
        )
        for n in range(sites)
    ]
    return org, hub_sites


def given(household, site, on=None, kind="food_basket", quantity=1, reason=None):
    """A distribution already in the log (recorded earlier, maybe by another hub)."""
    item = Distribution(
        household_id=household.id,
        site_id=site.id,
        organization_id=site.organization_id,
        distributed_on=on or today(),
        kind=kind,
        quantity=quantity,
        override_reason=reason,
    )
    _db.session.add(item)
    _db.session.flush()
    return item


def post(client, data, headers=None, path="/distributions/"):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, headers=headers or {})


def entry(household, site, **overrides):
    data = {
        "household_id": str(household.id),
        "site_id": str(site.id),
        "distributed_on": today().isoformat(),
        "kind": "food_basket",
        "quantity": "1",
    }
    data.update(overrides)
    return data


def saved():
    return _db.session.scalars(select(Distribution).order_by(Distribution.id)).all()


def count_saved() -> int:
    return _db.session.scalar(select(func.count(Distribution.id))) or 0


def events(action):
    return _db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture
def counter(login_as, db):
    """An operator of a hub, logged in, with one household of their organization in charge."""
    org, (site,) = hub("Banco Alimentare Aurora")
    household = factories.household(org, members=3)
    reference = household.reference_person
    reference.last_name, reference.first_name = "Esposito", "Carmela"
    user = login_as("entity_operator", org=org)
    _db.session.commit()
    return {"org": org, "site": site, "household": household, "user": user}


# Recording ----------------------------------------------------------------------------------


def test_operator_records_a_basket_and_the_list_below_updates(client, counter):
    household, site = counter["household"], counter["site"]
    response = post(client, entry(household, site, quantity="2"), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "Distribuzione registrata: paniere alimentare a Esposito Carmela." in html
    # The recent list and the counts travel with the answer, swapped out of band.
    assert '<hx-partial hx-target="#recent-distributions"' in html
    recent = html.split('<hx-partial hx-target="#recent-distributions"')[1]
    assert "Esposito Carmela" in recent
    assert today().strftime("%d/%m/%Y") in recent
    assert '<hx-partial hx-target="#monthly-counts"' in html
    (distribution,) = saved()
    assert distribution.household_id == household.id
    assert distribution.site_id == site.id
    assert distribution.organization_id == counter["org"].id
    assert distribution.operator_id == counter["user"].id
    assert distribution.quantity == 2
    assert distribution.override_reason is None
    (event,) = events("distribution_recorded")
    assert event.object_id == distribution.id
    assert event.actor_id == counter["user"].id
    assert event.changes["household_id"] == household.id
    assert event.changes["site"] == site.name
    assert event.changes["kind"] == "food_basket"
    assert event.changes["quantity"] == 2
    assert event.changes["override_reason"] is None


def test_without_htmx_the_form_posts_and_redirects_to_the_log(client, counter):
    household, site = counter["household"], counter["site"]
    response = post(client, entry(household, site, kind="basic_necessities"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/distributions/")
    page = client.get("/distributions/").get_data(as_text=True)
    assert "Distribuzione registrata: beni di prima necessità a Esposito Carmela." in page
    assert "Esposito Carmela" in page.split('id="recent-distributions"')[1]
    assert count_saved() == 1


def test_second_food_basket_in_the_month_at_another_hub_warns_and_saves_nothing(client, counter):
    household = counter["household"]
    _other, (elsewhere,) = hub("Parrocchia San Gioacchino")
    earlier = month_start(today())
    given(household, elsewhere, on=earlier)
    _db.session.commit()
    response = post(client, entry(household, counter["site"]), headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "già ricevuto un paniere alimentare nello stesso mese" in html
    assert earlier.strftime("%d/%m/%Y") in html
    assert f"snodo «{elsewhere.name}» di Parrocchia San Gioacchino" in html
    # The reason is now asked for, and what the user typed is still there.
    assert 'name="override_reason"' in html
    assert 'id="override_reason"' in html
    assert "required" in html.split('id="override_reason"')[1][:200]
    assert f'name="household_id" type="hidden" value="{household.id}"' in html
    assert "Registra comunque" in html
    assert count_saved() == 1
    assert events("distribution_recorded") == []


def test_a_reason_saves_the_second_basket_and_the_list_shows_it(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site)
    _db.session.commit()
    reason = "Nucleo con neonato, paniere integrativo concordato con l'assistente sociale"
    response = post(client, entry(household, site, override_reason=reason), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "secondo paniere del mese" in html
    assert "Nucleo con neonato" in html
    assert [d.override_reason for d in saved()] == [None, reason]
    (event,) = events("distribution_recorded")
    assert event.changes["override_reason"] == reason


def test_after_the_warning_an_empty_reason_is_refused_with_a_message(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site)
    _db.session.commit()
    response = post(client, entry(household, site, override_reason="   "), headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Scrivi il motivo per registrare un altro paniere nello stesso mese." in html
    assert count_saved() == 1


def test_basic_necessities_do_not_trigger_the_warning(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site)
    _db.session.commit()
    response = post(client, entry(household, site, kind="basic_necessities"), headers=HTMX)
    assert response.status_code == 200
    assert count_saved() == 2
    assert saved()[-1].override_reason is None


def test_a_basket_last_month_does_not_trigger_the_warning(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site, on=month_start(today()) - timedelta(days=1))
    _db.session.commit()
    response = post(client, entry(household, site), headers=HTMX)
    assert response.status_code == 200
    assert count_saved() == 2


def test_a_backdated_basket_is_checked_against_its_own_month(client, counter):
    household, site = counter["household"], counter["site"]
    last_month = month_start(today()) - timedelta(days=1)
    given(household, site, on=month_start(last_month))
    _db.session.commit()
    response = post(client, entry(household, site, distributed_on=last_month.isoformat()))
    assert response.status_code == 422
    assert "già ricevuto un paniere alimentare nello stesso mese" in response.get_data(as_text=True)
    assert count_saved() == 1


def test_a_reason_given_without_a_previous_basket_is_not_stored(client, counter):
    household, site = counter["household"], counter["site"]
    response = post(client, entry(household, site, override_reason="per sicurezza"))
    assert response.status_code == 303
    assert saved()[0].override_reason is None


# Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1,5", "", "101", "99999999999"])
def test_quantity_must_be_a_whole_number_from_1(client, counter, quantity):
    household, site = counter["household"], counter["site"]
    response = post(client, entry(household, site, quantity=quantity), headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "La quantità deve essere un numero intero da 1 a 100." in html
    assert html.count("La quantità deve essere") == 1
    (quantity_input,) = re.findall(r'<input[^>]*id="quantity"[^>]*>', html)
    assert f'value="{quantity}"' in quantity_input
    assert count_saved() == 0


def test_a_date_in_the_future_is_refused_and_the_input_kept(client, counter):
    household, site = counter["household"], counter["site"]
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = post(client, entry(household, site, distributed_on=tomorrow, quantity="3"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html  # a plain post gets the whole page back
    assert "La data non può essere nel futuro." in html
    assert f'value="{tomorrow}"' in html
    assert 'value="3"' in html
    assert count_saved() == 0


def test_a_date_that_is_not_a_date_is_refused(client, counter):
    household, site = counter["household"], counter["site"]
    response = post(client, entry(household, site, distributed_on="31/02/2026"), headers=HTMX)
    assert response.status_code == 422
    assert "Inserisci una data valida (gg/mm/aaaa)." in response.get_data(as_text=True)
    assert count_saved() == 0


def test_without_a_household_the_form_asks_to_choose_one(client, counter):
    data = entry(counter["household"], counter["site"])
    del data["household_id"]
    response = post(client, data, headers=HTMX)
    assert response.status_code == 422
    assert "Scegli il nucleo: cercalo qui sopra e premi «Seleziona»." in response.get_data(
        as_text=True
    )
    assert count_saved() == 0


def test_another_organizations_hub_cannot_be_chosen(client, counter):
    _other, (theirs,) = hub()
    _db.session.commit()
    response = post(client, entry(counter["household"], theirs), headers=HTMX)
    assert response.status_code == 422
    assert "Scegli uno degli snodi del tuo ente." in response.get_data(as_text=True)
    assert count_saved() == 0


def test_a_reason_longer_than_500_characters_is_refused(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site)
    _db.session.commit()
    for reason in ("x" * 501, "parola " * 50_000):  # just over the limit; 350 kB
        response = post(client, entry(household, site, override_reason=reason), headers=HTMX)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Il motivo può avere al massimo 500 caratteri." in html
        assert "già ricevuto un paniere alimentare nello stesso mese" in html
    assert count_saved() == 1


def test_a_megabyte_of_reason_is_refused_with_a_clear_message(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site)
    _db.session.commit()
    response = post(client, entry(household, site, override_reason="x" * 1024 * 1024), HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Il motivo può avere al massimo 500 caratteri." in html
    assert 'maxlength="500"' in html
    assert count_saved() == 1
    assert events("distribution_recorded") == []


def test_a_post_without_the_csrf_token_is_refused(client, counter):
    response = client.post(
        "/distributions/", data=entry(counter["household"], counter["site"]), headers=HTMX
    )
    assert response.status_code == 400
    assert count_saved() == 0


def test_a_closed_household_gets_no_distribution(client, counter):
    household = factories.household(counter["org"], status="closed")
    household.reference_person.last_name = "Chiuso"
    _db.session.commit()
    html = client.get("/distributions/find?q=chiuso", headers=HTMX).get_data(as_text=True)
    assert "Seleziona Chiuso" not in html
    response = client.get(f"/distributions/form?household_id={household.id}", headers=HTMX)
    assert response.status_code == 409
    assert "non è più in carico" in response.get_data(as_text=True)
    response = post(client, entry(household, counter["site"]), headers=HTMX)
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#messages"
    assert count_saved() == 0


# Scope: another organization's households are not there -------------------------------------


@pytest.fixture
def elsewhere(counter):
    """A household in charge of another hub, with a name that shares the beginning."""
    other, (their_site,) = hub("Emporio Solidale Vallette")
    household = factories.household(other, members=2)
    reference = household.reference_person
    reference.last_name, reference.first_name = "Esposti", "Carlo"
    _db.session.commit()
    return {"org": other, "site": their_site, "household": household}


def test_finder_finds_own_households_by_name_and_codice_fiscale(client, counter, elsewhere):
    household = counter["household"]
    for q in ("espo", "ESPOSITO", "Esposito Carm", "carmela"):
        html = client.get(f"/distributions/find?q={q}", headers=HTMX).get_data(as_text=True)
        assert "Esposito Carmela" in html, q
        assert "3 componenti" in html
        assert f"household_id={household.id}" in html
    member = household.members[1]
    spaced = " ".join(member.codice_fiscale.lower()[i : i + 4] for i in range(0, 16, 4))
    html = client.get("/distributions/find", query_string={"q": spaced}, headers=HTMX)
    assert "Esposito Carmela" in html.get_data(as_text=True)


def test_finder_never_returns_another_organizations_household(client, counter, elsewhere):
    theirs = elsewhere["household"]
    for q in ("espost", "Esposti", "carlo", theirs.reference_person.codice_fiscale):
        response = client.get("/distributions/find", query_string={"q": q}, headers=HTMX)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Esposti Carlo" not in html, q
        assert f"household_id={theirs.id}" not in html
        assert "Nessun nucleo tra quelli che puoi vedere corrisponde a" in html, q


def test_finder_needs_two_characters_and_shows_ten_at_most(client, counter):
    for n in range(12):
        household = factories.household(counter["org"])
        household.reference_person.last_name = f"Ferrero{n:02d}"
    _db.session.commit()
    html = client.get("/distributions/find?q=f", headers=HTMX).get_data(as_text=True)
    assert "Scrivi almeno 2 caratteri." in html
    assert "Ferrero" not in html
    html = client.get("/distributions/find?q=ferr", headers=HTMX).get_data(as_text=True)
    assert html.count("Ferrero") == 10 + html.count("Seleziona Ferrero")
    assert html.count(">Seleziona</a>") == 10
    assert "Sono mostrati i primi 10 nuclei" in html


def test_finder_treats_like_wildcards_as_text(client, counter):
    html = client.get("/distributions/find?q=%25%25", headers=HTMX).get_data(as_text=True)
    assert "Esposito" not in html
    html = client.get("/distributions/find?q=__", headers=HTMX).get_data(as_text=True)
    assert "Esposito" not in html


def test_finder_shows_the_last_distribution_and_this_months_basket(client, counter):
    household, site = counter["household"], counter["site"]
    given(household, site, on=today(), kind="food_basket")
    _db.session.commit()
    html = client.get("/distributions/find?q=esposito", headers=HTMX).get_data(as_text=True)
    assert today().strftime("%d/%m/%Y") in html
    assert "paniere già ricevuto questo mese" in html


def test_selecting_a_household_fills_the_form(client, counter):
    household = counter["household"]
    response = client.get(f"/distributions/form?household_id={household.id}", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="distribution-form"' in html
    assert "Esposito Carmela" in html
    assert f'name="household_id" type="hidden" value="{household.id}"' in html
    assert "3 componenti" in html
    # The only hub of the organization is already chosen.
    assert f'<option selected value="{counter["site"].id}">' in html


def test_another_organizations_household_is_not_there_for_the_form(client, counter, elsewhere):
    theirs = elsewhere["household"]
    for value in (theirs.id, 999999, "abc", -1):
        response = client.get(f"/distributions/form?household_id={value}", headers=HTMX)
        assert response.status_code == 404, value
        assert "Esposti" not in response.get_data(as_text=True)
    response = post(client, entry(theirs, counter["site"]), headers=HTMX)
    assert response.status_code == 404
    assert count_saved() == 0
    assert events("distribution_recorded") == []


def test_the_log_shows_only_own_hubs_to_an_operator(client, counter, elsewhere):
    given(counter["household"], counter["site"], quantity=2)
    given(elsewhere["household"], elsewhere["site"], quantity=5)
    _db.session.commit()
    page = client.get("/distributions/").get_data(as_text=True)
    recent = page.split('id="recent-distributions"')[1].split('id="monthly-counts"')[0]
    assert "Esposito Carmela" in recent
    assert "Esposti" not in recent
    assert elsewhere["site"].name not in page


def test_counts_per_hub_and_kind_are_scoped_to_the_operators_organization(
    client, counter, elsewhere
):
    household, site = counter["household"], counter["site"]
    given(household, site, quantity=2)
    given(household, site, quantity=3, reason="neonato")
    given(household, site, kind="basic_necessities", quantity=4)
    given(household, site, on=month_start(today()) - timedelta(days=1), quantity=7)  # last month
    given(elsewhere["household"], elsewhere["site"], quantity=9)
    _db.session.commit()
    html = client.get("/distributions/counts", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html
    assert "<caption>" in html
    assert 'scope="row"' in html
    row = html.split(site.name)[1].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    assert cells == ["2", "5", "1", "4"]  # baskets: 2 given, 5 items; necessities: 1, 4
    assert elsewhere["site"].name not in html
    assert "Emporio Solidale Vallette" not in html


def test_the_coordinator_sees_every_hub_and_the_whole_city_read_only(
    client, login_as, counter, elsewhere
):
    given(counter["household"], counter["site"], quantity=2)
    given(elsewhere["household"], elsewhere["site"], quantity=9)
    _db.session.commit()
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/account").text)})
    login_as("coordinator")
    page = client.get("/distributions/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="distribution-form"' not in html
    assert "Cerca il nucleo per codice fiscale o cognome" not in html
    recent = html.split('id="recent-distributions"')[1].split('id="monthly-counts"')[0]
    assert "Esposito Carmela" in recent
    assert "Esposti Carlo" in recent
    counts = client.get("/distributions/counts", headers=HTMX).get_data(as_text=True)
    assert counter["site"].name in counts
    assert elsewhere["site"].name in counts
    assert "Totale" in counts
    for path in ("/distributions/find?q=esp", "/distributions/form"):
        assert client.get(path).status_code == 403
    assert post(client, entry(counter["household"], counter["site"])).status_code == 403
    assert count_saved() == 2


def test_month_selector_shows_another_month_and_ignores_bad_values(client, counter):
    household, site = counter["household"], counter["site"]
    last_month = month_start(month_start(today()) - timedelta(days=1))
    given(household, site, on=last_month, quantity=6)
    _db.session.commit()
    mese = last_month.strftime("%Y-%m")
    response = client.get(f"/distributions/counts?mese={mese}", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.headers["HX-Push-Url"] == f"/distributions/?mese={mese}"
    assert f'value="{mese}"' in html
    assert ">6</td>" in html
    for bad in ("2026-13", "abc", "1999-01", "9999-01", "2026-1"):
        response = client.get(f"/distributions/?mese={bad}")
        assert response.status_code == 200, bad
        assert f'value="{today().strftime("%Y-%m")}"' in response.get_data(as_text=True)


# Who may use the page -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["housing_provider", "admin"])
def test_other_roles_are_refused(client, login_as, role):
    login_as(role)
    for path in (
        "/distributions/",
        "/distributions/find?q=rossi",
        "/distributions/form",
        "/distributions/counts",
    ):
        assert client.get(path).status_code == 403, path
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    assert client.post("/distributions/", data={"csrf_token": token}).status_code == 403


def test_anonymous_is_sent_to_the_login(client, db):
    response = client.get("/distributions/")
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]
    response = client.get("/distributions/find?q=rossi", headers=HTMX)
    assert response.headers["HX-Redirect"].startswith("/login")


def test_an_operator_whose_organization_is_not_a_hub_sees_a_message_and_no_form(client, login_as):
    org = factories.organization(is_hub=False)
    factories.household(org)
    login_as("entity_operator", org=org)
    response = client.get("/distributions/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Il tuo ente non gestisce uno snodo" in html
    assert 'id="distribution-form"' not in html
    assert "Cerca il nucleo per codice fiscale o cognome" not in html
    for path in ("/distributions/find?q=cognome", "/distributions/form"):
        assert client.get(path).status_code == 403
    token = csrf_token_from(html)
    assert client.post("/distributions/", data={"csrf_token": token}).status_code == 403


def test_a_hub_without_hub_sites_is_told_where_to_add_one(client, login_as):
    org = factories.organization(is_hub=True)
    factories.site(org, is_hub=False)
    login_as("entity_operator", org=org)
    html = client.get("/distributions/").get_data(as_text=True)
    assert "nessuna sua sede è indicata come punto di distribuzione" in html
    assert f'href="/entities/{org.id}"' in html
    assert 'id="distribution-form"' not in html


def test_an_operator_with_two_hubs_chooses_one(client, login_as):
    org, sites = hub(sites=2)
    household = factories.household(org)
    login_as("entity_operator", org=org)
    html = client.get(f"/distributions/form?household_id={household.id}", headers=HTMX).text
    assert "Scegli lo snodo" in html
    data = entry(household, sites[1])
    data["site_id"] = ""
    response = post(client, data, headers=HTMX)
    assert response.status_code == 422
    assert "Scegli lo snodo." in response.get_data(as_text=True)
    assert post(client, entry(household, sites[1]), headers=HTMX).status_code == 200
    assert saved()[0].site_id == sites[1].id


# Page and fragments -------------------------------------------------------------------------


def test_fragments_for_htmx_and_whole_pages_otherwise(client, counter):
    household = counter["household"]
    for path in (
        "/distributions/find?q=esposito",
        f"/distributions/form?household_id={household.id}",
        "/distributions/counts",
    ):
        fragment = client.get(path, headers=HTMX)
        assert fragment.status_code == 200
        assert "<html" not in fragment.get_data(as_text=True), path
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<html" in html, path
        assert 'id="distribution-form"' in html
        assert 'id="recent-distributions"' in html
    # The same URLs without JavaScript: the search results and the chosen household are there.
    html = client.get("/distributions/find?q=esposito").get_data(as_text=True)
    assert 'value="esposito"' in html
    assert ">Seleziona</a>" in html
    html = client.get(f"/distributions/form?household_id={household.id}").get_data(as_text=True)
    assert f'name="household_id" type="hidden" value="{household.id}"' in html
    page = client.get("/distributions/", headers={**HTMX, "HX-Boosted": "true"})
    assert "<html" in page.get_data(as_text=True)


def test_the_page_has_a_labelled_search_and_the_csrf_token_in_the_form(client, counter):
    html = client.get("/distributions/").get_data(as_text=True)
    assert (
        '<label for="finder-q" class="active">Cerca il nucleo per codice fiscale o cognome' in html
    )
    assert 'hx-trigger="input changed delay:300ms from:#finder-q, submit"' in html
    form = html.split('id="distribution-form"')[1].split("</form>")[0]
    assert 'name="csrf_token"' in form
    for name in ("site_id", "distributed_on", "kind", "quantity"):
        assert f'<label for="{name}"' in form, name
    assert "override_reason" not in form  # asked only after the warning
    assert f'value="{today().isoformat()}"' in form


def test_the_page_costs_the_same_queries_for_2_or_20_distributions(
    client, counter, app, monkeypatch
):
    monkeypatch.setitem(app.config, "LAYOUT_CACHE", False)  # counted without what the layout keeps
    from sqlalchemy import event

    def queries_for_page() -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(_db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/distributions/").status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", count)
        return len(statements)

    org, site = counter["org"], counter["site"]
    for _ in range(2):
        given(factories.household(org, members=2), site, kind="basic_necessities")
    _db.session.commit()
    few = queries_for_page()
    for _ in range(18):
        given(factories.household(org, members=2), site, kind="basic_necessities")
    _db.session.commit()
    assert queries_for_page() == few


def test_finder_tells_two_families_with_the_same_name_apart(client, counter):
    """Two Esposito Carmela: the counter sees birth year, C.F. tail and street, no more."""
    first = counter["household"]
    first.address = "Via Cigna, 12/a"
    first.reference_person.birth_date = first.reference_person.birth_date.replace(year=1961)
    namesake = factories.household(counter["org"], address="Corso Vercelli 210 scala B")
    reference = namesake.reference_person
    reference.last_name, reference.first_name = "Esposito", "Carmela"
    reference.birth_date = reference.birth_date.replace(year=1987)
    _db.session.commit()
    html = client.get("/distributions/find?q=esposito", headers=HTMX).get_data(as_text=True)
    for household, year in ((first, 1961), (namesake, 1987)):
        code = household.reference_person.codice_fiscale
        assert f"nata/o nel {year}" in html
        assert f"C.F. …{code[-4:]}" in html
        assert code not in html  # never the whole codice fiscale
    assert "Via Cigna" in html
    assert "Cigna, 12" not in html
    assert "Corso Vercelli" in html
    assert "Vercelli 210" not in html
    [event] = events("distribution_finder_used")
    assert event.changes["shown"] == [
        "reference_name", "birth_year", "codice_fiscale_last4", "street", "members"
    ]  # fmt: skip
    assert event.changes["households"] == 2


def test_finder_shows_what_it_has_when_the_address_is_missing(client, counter):
    counter["household"].address = None
    _db.session.commit()
    html = client.get("/distributions/find?q=esposito", headers=HTMX).get_data(as_text=True)
    assert "Esposito Carmela" in html
    assert "C.F. …" in html
