"""Branch hourly updates: the API and the HTML form, who may post for which
branch, validation, Idempotency-Key retries, and many posters at once."""

import re
import threading

import pytest

from .conftest import bearer, row_counts


def url(incident):
    return f"/api/v1/incidents/{incident['id']}/updates"


def stored(db):
    return [dict(r) for r in db.query("SELECT * FROM hourly_update ORDER BY id")]


def fields_of(response):
    return {d["field"] for d in (response.json.get("details") or [])}


# --- who posts for which branch ------------------------------------------------------------------


def test_an_outlet_contact_posts_for_its_own_branch(api, db, incident, accounts):
    response = api("branch_outlet", "POST", url(incident), json={"people_on_site": 2, "mood": "tense", "needs": "需要法务支持"})
    assert response.status_code == 201, response.json
    assert response.json["branch_code"] == "HB-SJZ-01"
    assert response.json["province_code"] == "130000"
    assert response.json["replayed"] is False
    [row] = stored(db)
    assert row["branch_code"] == "HB-SJZ-01"
    assert row["user_id"] == accounts["branch_outlet"]
    assert row["people_on_site"] == 2 and row["mood"] == "tense" and row["needs"] == "需要法务支持"
    # naming its own branch is fine too
    again = api("branch_outlet", "POST", url(incident), json={"branch_code": "HB-SJZ-01", "people_on_site": 1, "mood": "calm"})
    assert again.status_code == 201
    assert len(stored(db)) == 2


@pytest.mark.parametrize(
    "user, body",
    [
        ("branch_outlet", {"branch_code": "HB-SJZ-02"}),
        ("branch_outlet", {"branch_code": "GD-GZ-01"}),
        ("branch_hebei", {}),
        ("branch_hebei", {"branch_code": "GD-GZ-01"}),
        ("branch_hebei", {"branch_code": "NO-SUCH-BRANCH"}),
        ("branch_guangdong", {"branch_code": "HB-SJZ-01"}),
        ("lead", {}),
    ],
)
def test_an_update_outside_the_posters_scope_is_refused_and_nothing_written(api, db, incident, user, body):
    before = row_counts(db)
    response = api(user, "POST", url(incident), json={"people_on_site": 3, "mood": "calm", **body})
    assert response.status_code == 422, response.json
    assert "branch_code" in fields_of(response)
    assert row_counts(db) == before


def test_a_province_contact_names_a_branch_in_its_province(api, db, incident):
    response = api("branch_hebei", "POST", url(incident), json={"branch_code": "HB-SJZ-02", "people_on_site": 0, "mood": "calm"})
    assert response.status_code == 201, response.json
    assert response.json["branch_code"] == "HB-SJZ-02"
    assert response.json["province_code"] == "130000"
    assert [r["branch_code"] for r in stored(db)] == ["HB-SJZ-02"]


@pytest.mark.parametrize("user", ["executive", "legal"])
def test_roles_without_update_rights_get_403(api, db, incident, user):
    before = row_counts(db)
    response = api(user, "POST", url(incident), json={"branch_code": "HB-SJZ-01", "people_on_site": 0, "mood": "calm"})
    assert response.status_code == 403
    assert row_counts(db) == before


def test_updates_are_taken_for_open_incidents_only(api, db, incident):
    assert api("lead", "POST", f"/api/v1/incidents/{incident['id']}/status", json={"status": "stood_down", "reason": "平息"}).status_code == 200
    before = row_counts(db)
    response = api("branch_outlet", "POST", url(incident), json={"people_on_site": 0, "mood": "calm"})
    assert response.status_code == 422
    assert row_counts(db) == before
    assert api("branch_outlet", "POST", "/api/v1/incidents/999999/updates", json={"people_on_site": 0, "mood": "calm"}).status_code == 404


def test_reading_updates_respects_scope(api, db, incident):
    assert api("branch_outlet", "POST", url(incident), json={"people_on_site": 1, "mood": "calm"}).status_code == 201
    assert api("branch_guangdong", "POST", url(incident), json={"branch_code": "GD-GZ-01", "people_on_site": 4, "mood": "tense"}).status_code == 201
    everyone = api("lead", "GET", url(incident))
    assert sorted(u["branch_code"] for u in everyone.json["updates"]) == ["GD-GZ-01", "HB-SJZ-01"]
    hebei = api("branch_hebei", "GET", url(incident))
    assert [u["branch_code"] for u in hebei.json["updates"]] == ["HB-SJZ-01"]
    timeline = api("branch_guangdong", "GET", f"/api/v1/incidents/{incident['id']}/branches/HB-SJZ-01/updates")
    assert timeline.status_code == 404


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"people_on_site": 5, "mood": "angry"}, "mood"),
        ({"people_on_site": -1, "mood": "calm"}, "people_on_site"),
        ({"people_on_site": 1, "new_complainants": -3, "mood": "calm"}, "new_complainants"),
        ({"mood": "calm"}, "people_on_site"),
        ({"people_on_site": 1}, "mood"),
        ({"people_on_site": 1, "mood": "calm", "weather": "rain"}, "weather"),
        ({"people_on_site": 1, "mood": "calm", "outlet_closed": True, "closed_since": "2026-11-23T08:00:00"}, "closed_since"),
        ({"people_on_site": 1, "mood": "calm", "outlet_closed": True}, "closed_since"),
    ],
)
def test_a_bad_update_is_refused_with_details_and_nothing_written(api, db, incident, body, field):
    before = row_counts(db)
    response = api("branch_outlet", "POST", url(incident), json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"]
    assert field in fields_of(response), response.json
    assert row_counts(db) == before


def test_an_outlet_closed_update_with_its_time_is_stored(api, db, incident):
    response = api(
        "branch_outlet",
        "POST",
        url(incident),
        json={"people_on_site": 30, "mood": "hostile", "outlet_closed": True, "closed_since": "2026-11-23T16:00:00+08:00"},
    )
    assert response.status_code == 201, response.json
    assert response.json["outlet_closed"] is True
    assert stored(db)[0]["closed_since"] == "2026-11-23T08:00:00+00:00"


# --- Idempotency-Key -----------------------------------------------------------------------------------


def test_one_idempotency_key_stores_once_and_replays_the_same_answer(api, db, incident):
    body = {"people_on_site": 4, "mood": "tense", "actions_taken": "开放接待室"}
    answers = [api("branch_outlet", "POST", url(incident), json=body, headers={"Idempotency-Key": "upd-0001"}) for _ in range(5)]
    assert [a.status_code for a in answers] == [201] * 5
    assert [a.json["replayed"] for a in answers] == [False, True, True, True, True]
    first = {k: v for k, v in answers[0].json.items() if k != "replayed"}
    for answer in answers[1:]:
        assert {k: v for k, v in answer.json.items() if k != "replayed"} == first
    rows = stored(db)
    assert len(rows) == 1
    assert rows[0]["id"] == first["id"]
    # the group-visit alert of that update exists once too
    assert db["alert"].count_where("kind = 'group_visit'") == 1
    assert db["audit_log"].count_where("table_name = 'hourly_update'") == 1


def test_the_same_key_with_a_different_body_is_refused(api, db, incident):
    key = {"Idempotency-Key": "upd-0002"}
    assert api("branch_outlet", "POST", url(incident), json={"people_on_site": 1, "mood": "calm"}, headers=key).status_code == 201
    before = row_counts(db)
    response = api("branch_outlet", "POST", url(incident), json={"people_on_site": 2, "mood": "calm"}, headers=key)
    assert response.status_code == 422, response.json
    assert row_counts(db) == before


def test_the_same_key_on_another_incident_is_refused(api, db, incident):
    other = api("lead", "POST", "/api/v1/incidents", json={"title": "另一事件", "cause": "fee", "product": "信用卡", "severity": "light"})
    assert other.status_code == 201
    key = {"Idempotency-Key": "upd-0004"}
    body = {"people_on_site": 1, "mood": "calm"}
    assert api("branch_outlet", "POST", url(incident), json=body, headers=key).status_code == 201
    before = row_counts(db)
    response = api("branch_outlet", "POST", url(other.json), json=body, headers=key)
    assert response.status_code == 422
    assert row_counts(db) == before


def test_idempotency_keys_belong_to_their_user(api, db, incident):
    key = {"Idempotency-Key": "shared-key"}
    a = api("branch_outlet", "POST", url(incident), json={"people_on_site": 1, "mood": "calm"}, headers=key)
    b = api("branch_hebei", "POST", url(incident), json={"branch_code": "HB-SJZ-02", "people_on_site": 1, "mood": "calm"}, headers=key)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json["replayed"] is False and b.json["replayed"] is False
    assert len(stored(db)) == 2


def test_a_refused_update_does_not_use_up_its_key(api, db, incident):
    key = {"Idempotency-Key": "upd-0003"}
    bad = api("branch_outlet", "POST", url(incident), json={"people_on_site": 1, "mood": "calm", "outlet_closed": True}, headers=key)
    assert bad.status_code == 422
    assert db["idempotency_key"].count == 0
    fixed = {"people_on_site": 1, "mood": "calm", "outlet_closed": True, "closed_since": "2026-11-23T16:00:00+08:00"}
    good = api("branch_outlet", "POST", url(incident), json=fixed, headers=key)
    assert good.status_code == 201
    assert good.json["replayed"] is False


def test_the_update_form_and_the_api_share_one_idempotent_post(login, db, incident):
    """The form's hidden key works like the API's header: a resubmitted form stores nothing new."""
    client = login("branch_outlet")
    form = {"people_on_site": "3", "mood": "calm", "idempotency_key": "form-0001"}
    first = client.post(f"/incidents/{incident['id']}/updates/new", data=form, follow_redirects=True)
    again = client.post(f"/incidents/{incident['id']}/updates/new", data=form, follow_redirects=True)
    assert (first.status_code, again.status_code) == (200, 200)
    assert "Update posted." in first.get_data(as_text=True)
    assert "This update was already posted." in again.get_data(as_text=True)
    assert len(stored(db)) == 1
    assert db["idempotency_key"].count == 1
    changed = client.post(f"/incidents/{incident['id']}/updates/new", data={**form, "people_on_site": "4"})
    assert changed.status_code == 422
    assert len(stored(db)) == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\tkey"])
def test_a_malformed_idempotency_key_is_refused(api, db, incident, key):
    before = row_counts(db)
    response = api("branch_outlet", "POST", url(incident), json={"people_on_site": 1, "mood": "calm"}, headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert row_counts(db) == before


# --- the HTML form ----------------------------------------------------------------------------------------


def hidden_key(html):
    match = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html)
    assert match, html
    return match.group(1)


def test_the_update_form_posts_once_however_often_it_is_submitted(login, db, incident):
    client = login("branch_outlet")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/incidents/{incident['id']}/updates/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="HB-SJZ-01"' in html
    assert 'value="HB-SJZ-02"' not in html  # an outlet contact is offered its own branch only
    form = {
        "idempotency_key": hidden_key(html),
        "branch_code": "HB-SJZ-01",
        "people_on_site": "6",
        "new_complainants": "2",
        "settled_since": "0",
        "mood": "tense",
        "banners": "on",
        "actions_taken": "已开放接待室",
    }
    first = client.post(f"/incidents/{incident['id']}/updates/new", data=form)
    assert first.status_code == 302, first.get_data(as_text=True)
    assert f"/incidents/{incident['id']}/branches/HB-SJZ-01" in first.headers["Location"]
    for _ in range(3):
        again = client.post(f"/incidents/{incident['id']}/updates/new", data=form)
        assert again.status_code == 302
    [row] = stored(db)
    assert row["people_on_site"] == 6 and row["new_complainants"] == 2 and row["mood"] == "tense"
    assert row["banners"] == 1 and row["police_present"] == 0
    # a fresh form gets a fresh key
    assert hidden_key(client.get(f"/incidents/{incident['id']}/updates/new").get_data(as_text=True)) != form["idempotency_key"]


def test_the_update_form_shows_errors_and_writes_nothing(login, db, incident):
    client = login("branch_outlet")
    key = hidden_key(client.get(f"/incidents/{incident['id']}/updates/new").get_data(as_text=True))
    before = row_counts(db)
    response = client.post(
        f"/incidents/{incident['id']}/updates/new", data={"idempotency_key": key, "branch_code": "HB-SJZ-01", "people_on_site": "-2", "mood": "calm"}
    )
    assert response.status_code == 422
    assert row_counts(db) == before
    closed = client.post(
        f"/incidents/{incident['id']}/updates/new",
        data={"idempotency_key": key, "branch_code": "HB-SJZ-01", "people_on_site": "2", "mood": "calm", "outlet_closed": "on"},
    )
    assert closed.status_code == 422
    assert row_counts(db) == before
    # the same key, corrected, still posts
    fixed = client.post(
        f"/incidents/{incident['id']}/updates/new", data={"idempotency_key": key, "branch_code": "HB-SJZ-01", "people_on_site": "2", "mood": "calm"}
    )
    assert fixed.status_code == 302
    assert len(stored(db)) == 1


def test_the_update_form_refuses_another_branch(login, db, incident):
    client = login("branch_outlet")
    before = row_counts(db)
    response = client.post(
        f"/incidents/{incident['id']}/updates/new", data={"idempotency_key": "k1", "branch_code": "HB-SJZ-02", "people_on_site": "1", "mood": "calm"}
    )
    assert response.status_code == 422
    assert row_counts(db) == before


# --- many posters at once ----------------------------------------------------------------------------------

# 200 posters x 50 updates (10,000 rows) takes well over a minute on the
# 2-core test machine through the Flask test client (about 10 ms a post
# under contention), so the unit test runs 20 x 50; the full figure is the
# benchmark's.
POSTERS = 20
PER_POSTER = 50
POSTER_USERS = [("branch_outlet", None), ("branch_hebei", "HB-SJZ-02"), ("team", "GD-GZ-01"), ("lead", "HB-SJZ-02")]


def test_concurrent_posters_with_retries_store_each_update_exactly_once(app, db, incident, tokens):
    start = threading.Barrier(POSTERS * 2)
    results = {}  # (poster, key) -> [(status, id, replayed), ...]
    lock = threading.Lock()
    errors = []

    def body_for(poster, key):
        user, branch = POSTER_USERS[poster % len(POSTER_USERS)]
        body = {"people_on_site": poster % 3, "mood": "calm", "notes": key}
        if branch:
            body["branch_code"] = branch
        return user, body

    def send(client, poster, key):
        user, body = body_for(poster, key)
        response = client.post(f"/api/v1/incidents/{incident['id']}/updates", json=body, headers={**bearer(tokens[user]), "Idempotency-Key": key})
        with lock:
            results.setdefault((poster, key), []).append((response.status_code, (response.json or {}).get("id"), (response.json or {}).get("replayed")))

    def poster(n):
        try:
            client = app.test_client()
            start.wait()
            for i in range(PER_POSTER):
                key = f"poster-{n}-update-{i}"
                send(client, n, key)
                if i % 5 == 0:
                    send(client, n, key)  # a retry after a lost answer
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    def racer(n):
        """Replays poster n's keys from the end while it posts them: the same key twice at once."""
        try:
            client = app.test_client()
            start.wait()
            for i in reversed(range(PER_POSTER)):
                send(client, n, f"poster-{n}-update-{i}")
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(POSTERS)]
    threads += [threading.Thread(target=racer, args=(n,)) for n in range(POSTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []

    expected = POSTERS * PER_POSTER
    assert len(results) == expected
    for (n, key), answers in results.items():
        assert all(status == 201 for status, _id, _r in answers), (key, answers)
        ids = {i for _s, i, _r in answers}
        assert len(ids) == 1, (key, answers)  # every answer names the one stored update
        assert sum(1 for _s, _i, replayed in answers if replayed is False) == 1, (key, answers)
    assert len({answers[0][1] for answers in results.values()}) == expected

    assert db["hourly_update"].count == expected
    twice = list(db.query("SELECT notes, count(*) AS n FROM hourly_update GROUP BY notes HAVING n > 1"))
    assert twice == []
    assert db["idempotency_key"].count == expected
    assert db["audit_log"].count_where("table_name = 'hourly_update'") == expected
