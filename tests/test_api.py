"""The JSON API: its OpenAPI document, creating and listing complainants, the
contact log, deadline extensions, group representatives and the audit log."""

import json
import re
from decimal import Decimal

import pytest
from openapi_spec_validator import validate

from .conftest import row_counts

SKIP_METHODS = {"HEAD", "OPTIONS"}


# --- OpenAPI ---------------------------------------------------------------------------------


@pytest.fixture
def document(api, accounts):
    response = api(None, "GET", "/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_openapi_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def _api_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in sorted(rule.methods - SKIP_METHODS):
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
                rules.append((path, method.lower(), rule.endpoint))
    return rules


def test_every_api_route_is_in_the_document(app, document):
    assert document["servers"] == [{"url": "/api/v1"}]
    rules = _api_rules(app)
    assert len(rules) >= 15
    assert ("/openapi.json", "get", "api.openapi") in rules
    missing = [(path, method) for path, method, _endpoint in rules if method not in document["paths"].get(path, {})]
    assert missing == []
    # and nothing is documented that does not exist
    routed = {(path, method) for path, method, _endpoint in rules}
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == routed


def test_documented_path_parameters_and_success_codes_match_the_routes(app, api, document, incident):
    for path, method, endpoint in _api_rules(app):
        operation = document["paths"][path][method]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
        assert any(code.startswith("2") for code in operation["responses"]), (path, method)
    create = document["paths"]["/incidents/{incident_id}/complainants"]["post"]
    assert "201" in create["responses"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    one, many = schema["oneOf"]
    assert one == {"$ref": "#/components/schemas/ComplainantIn"}
    assert many == {"type": "array", "items": one}
    error = create["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert set(document["components"]["schemas"]["Error"]["properties"]) == {"error", "details"}
    listing = document["paths"]["/incidents/{incident_id}/complainants"]["get"]
    query = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert {"group_id", "province_code", "status", "flag", "overdue_contact", "q", "page", "per_page"} <= query


def test_the_document_says_what_the_parsers_accept(document):
    """Found by tests/test_fuzz.py: the document and the parsers disagreed."""
    schemas = document["components"]["schemas"]
    # an amount is a number or the same number as text (JSON bodies are otherwise strictly typed)
    principal = schemas["ComplainantIn"]["properties"]["principal"]
    assert [alternative["type"] for alternative in principal["anyOf"]] == ["number", "string"]
    assert principal["anyOf"][0]["minimum"] == 0
    # a file in a JSON body (an agreement's scan) may be refused for its type
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert ("415" in operation["responses"]) == ("requestBody" in operation), (method, path)
    # the hourly update reads an Idempotency-Key header
    post_update = document["paths"]["/incidents/{incident_id}/updates"]["post"]
    assert [(p["name"], p["required"]) for p in post_update["parameters"] if p["in"] == "header"] == [("Idempotency-Key", False)]
    # an empty query value is the same as none, and the document says so
    listing = document["paths"]["/incidents/{incident_id}/complainants"]["get"]
    for parameter in listing["parameters"]:
        if parameter["in"] == "query":
            assert parameter.get("allowEmptyValue") is True and parameter["required"] is False, parameter


def test_an_empty_query_value_is_no_filter(api, incident):
    everyone = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/complainants")
    blank = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/complainants?province_code=&status=&page=")
    assert blank.status_code == 200 and blank.json == everyone.json
    assert blank.json["total"] == 3


def test_the_alerts_filter_is_documented_and_checked(api, document, incident):
    """GET /alerts read ?incident_id= without declaring it: "abc" was silently no filter."""
    listing = document["paths"]["/alerts"]["get"]
    assert [p["name"] for p in listing["parameters"] if p["in"] == "query"] == ["incident_id", "kind", "before_id", "per_page"]
    crowd = api("branch_outlet", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"people_on_site": 150, "mood": "tense"})
    assert crowd.status_code == 201, crowd.json
    everything = api("lead", "GET", "/api/v1/alerts").json["alerts"]
    assert everything and api("lead", "GET", f"/api/v1/alerts?incident_id={incident['id']}").json["alerts"] == everything
    assert api("lead", "GET", f"/api/v1/alerts?incident_id={incident['id'] + 1}").json["alerts"] == []
    refused = api("lead", "GET", "/api/v1/alerts?incident_id=abc")
    assert refused.status_code == 422 and refused.json["details"][0]["field"] == "incident_id"


def test_a_second_roll_up_in_the_same_second_is_a_conflict(app, db, incident, ctx, lead):
    """Found by tests/test_fuzz.py: two on-demand roll-ups in one second broke
    the one-roll-up-per-moment index and answered 500."""
    from datetime import datetime, timedelta, timezone

    from console import rollups
    from console.errors import Conflict

    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=5)
    first = rollups.make(db, incident["id"], now, now, app.config, "lead", lead)
    before = row_counts(db)
    with pytest.raises(Conflict) as refused:
        rollups.make(db, incident["id"], now, now, app.config, "lead", lead)
    assert refused.value.status == 409 and "exists already" in refused.value.message
    assert row_counts(db) == before
    # a second later there is a new moment, and a new roll-up
    assert rollups.make(db, incident["id"], now + timedelta(seconds=1), now + timedelta(seconds=1), app.config, "lead", lead) > first


def test_openapi_document_is_public(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["paths"]["/openapi.json"]["get"]["security"] == []


# --- creating complainants -------------------------------------------------------------------


def _create(api, incident_id, body, username="lead"):
    return api(username, "POST", f"/api/v1/incidents/{incident_id}/complainants", json=body)


def test_create_one_complainant_with_an_object(api, db, incident):
    before = row_counts(db)
    response = _create(
        api,
        incident["id"],
        {
            "name": "周桂芝",
            "phone": "13500001111",
            "id_number": "13014219500101123x",
            "province_code": "130000",
            "city_code": "130600",
            "principal": "30000.10",
            "interest_claimed": "1200",
            "flags": ["vulnerable", "repeat"],
            "demands": "退保并返还本金",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["count"] == 1 and len(response.json["ids"]) == 1
    new_id = response.json["ids"][0]
    assert row_counts(db)["complainant"] == before["complainant"] + 1
    read = api("lead", "GET", f"/api/v1/complainants/{new_id}").json
    assert read["name"] == "周桂芝" and read["status"] == "new" and read["version"] == 1
    assert Decimal(read["principal"]) == Decimal("30000.10") and Decimal(read["interest_claimed"]) == Decimal("1200")
    assert Decimal(read["expenses_claimed"]) == 0
    assert read["flags"] == ["vulnerable", "repeat"]
    assert read["incident_id"] == incident["id"] and read["group_id"] is None
    assert read["id_number"].endswith("123X"), "an ID's check letter is stored upper-case"
    assert db["complainant"].get(new_id)["id_number"] == "13014219500101123X"


def test_create_many_complainants_with_an_array(api, db, incident):
    items = [{"name": f"群众{i}", "phone": f"1360000{i:04d}", "province_code": "130000", "group_id": incident["groups"][0]} for i in range(25)]
    before = row_counts(db)
    response = _create(api, incident["id"], items)
    assert response.status_code == 201, response.json
    ids = response.json["ids"]
    assert response.json["count"] == 25 == len(set(ids))
    after = row_counts(db)
    assert after["complainant"] == before["complainant"] + 25
    assert after["audit_log"] > before["audit_log"]
    assert set(ids) <= _audited_creations(db)
    names = [db["complainant"].get(i)["name"] for i in ids]
    assert names == [f"群众{i}" for i in range(25)], "ids come back in the order sent"


def test_a_one_item_array_is_many(api, incident):
    response = _create(api, incident["id"], [{"name": "单个", "phone": "13500002222", "province_code": "440000"}])
    assert response.status_code == 201 and response.json["count"] == 1


# --- listing -----------------------------------------------------------------------------------


def _list(api, incident_id, query="", username="lead"):
    response = api(username, "GET", f"/api/v1/incidents/{incident_id}/complainants{query}")
    assert response.status_code == 200, response.json
    return response.json


def _ids(page):
    return sorted(c["id"] for c in page["complainants"])


def test_list_filters(api, incident):
    incident_id = incident["id"]
    h1, h2, gd = incident["hebei_outlet_1"], incident["hebei_outlet_2"], incident["guangdong"]
    g1, g2 = incident["groups"]
    assert _ids(_list(api, incident_id)) == sorted([h1, h2, gd])
    assert _ids(_list(api, incident_id, f"?group_id={g1}")) == sorted([h1, h2])
    assert _ids(_list(api, incident_id, f"?group_id={g2}")) == [gd]
    assert _ids(_list(api, incident_id, "?province_code=440000")) == [gd]
    assert _ids(_list(api, incident_id, "?province_code=110000")) == []
    assert _ids(_list(api, incident_id, "?branch_code=HB-SJZ-02")) == [h2]
    assert _ids(_list(api, incident_id, "?flag=journalist")) == [gd]
    assert _ids(_list(api, incident_id, "?flag=vulnerable")) == [h1]
    assert _ids(_list(api, incident_id, "?flag=lawyer")) == []
    api("lead", "PATCH", f"/api/v1/complainants/{h2}", json={"status": "contacted"})
    assert _ids(_list(api, incident_id, "?status=contacted")) == [h2]
    assert _ids(_list(api, incident_id, "?status=new")) == sorted([h1, gd])
    # filters combine
    assert _ids(_list(api, incident_id, f"?group_id={g1}&status=new")) == [h1]
    assert _list(api, incident_id, f"?group_id={g1}&status=new")["total"] == 1


@pytest.mark.parametrize(
    "q,who",
    [
        ("秀英", ["hebei_outlet_2"]),
        ("陈志明", ["guangdong"]),
        # issue 14: numbers match whole, or by their last four digits; a part never narrows
        ("138", []),
        ("138 1234", []),
        ("1381234567", []),
        ("139-1234-5678", ["hebei_outlet_2"]),
        ("5678", ["hebei_outlet_1", "hebei_outlet_2", "guangdong"]),
        ("1234", ["hebei_outlet_1"]),  # the ID number's last four
        ("13010919600202222x", ["hebei_outlet_2"]),
        ("王", []),
    ],
)
def test_list_search_by_name_or_phone_digits(api, incident, q, who):
    from urllib.parse import quote

    page = _list(api, incident["id"], f"?q={quote(q)}")
    assert _ids(page) == sorted(incident[w] for w in who)
    assert page["total"] == len(who)


def test_list_overdue_contact(api, incident):
    incident_id = incident["id"]
    h1, h2, gd = incident["hebei_outlet_1"], incident["hebei_outlet_2"], incident["guangdong"]
    past, future = "2020-01-01T09:00:00+08:00", "2099-01-01T09:00:00+08:00"
    assert api("lead", "PATCH", f"/api/v1/complainants/{h1}", json={"next_contact_due_at": past}).status_code == 200
    assert api("lead", "PATCH", f"/api/v1/complainants/{h2}", json={"next_contact_due_at": future}).status_code == 200
    assert api("lead", "PATCH", f"/api/v1/complainants/{gd}", json={"next_contact_due_at": past, "status": "withdrawn"}).status_code == 200
    assert _ids(_list(api, incident_id, "?overdue_contact=1")) == [h1], "a withdrawn complainant is not waiting for a call"
    assert _ids(_list(api, incident_id, "?overdue_contact=true")) == [h1]
    assert _ids(_list(api, incident_id, "?overdue_contact=0")) == sorted([h1, h2, gd])
    assert _ids(_list(api, incident_id)) == sorted([h1, h2, gd])


def test_list_paging(api, incident):
    items = [{"name": f"翻页{i}", "phone": f"1350000{i:04d}", "province_code": "130000"} for i in range(7)]
    assert _create(api, incident["id"], items).status_code == 201
    seen = []
    for page_number, size in [(1, 4), (2, 4), (3, 2)]:
        page = _list(api, incident["id"], f"?per_page=4&page={page_number}")
        assert (page["total"], page["page"], page["per_page"]) == (10, page_number, 4)
        assert len(page["complainants"]) == size
        seen += [c["id"] for c in page["complainants"]]
    assert len(seen) == len(set(seen)) == 10, "pages do not overlap and miss nothing"
    beyond = _list(api, incident["id"], "?per_page=4&page=4")
    assert beyond["complainants"] == [] and beyond["total"] == 10
    default = _list(api, incident["id"])
    assert default["page"] == 1 and default["per_page"] == 50 and len(default["complainants"]) == 10
    filtered = _list(api, incident["id"], "?per_page=2&q=翻页")
    assert filtered["total"] == 7 and len(filtered["complainants"]) == 2


# --- contact log -------------------------------------------------------------------------------


def _contact(api, complainant_id, username="team", **fields):
    body = {"channel": "phone", "said": "说明了处理方案", **fields}
    return api(username, "POST", f"/api/v1/complainants/{complainant_id}/contacts", json=body)


def _received_on_19_november(api, complainant_id):
    """The fixture's complainants were received now; these tests log contacts of 20-23 November."""
    response = api(
        "lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"received_at": "2026-11-19T09:00:00+08:00", "reason": "热线系统迟录，按原始受理单更正"}
    )
    assert response.status_code == 200, response.json


def test_first_contact_moves_new_to_contacted(api, db, incident):
    complainant_id = incident["hebei_outlet_1"]
    _received_on_19_november(api, complainant_id)
    before = db["complainant"].get(complainant_id)
    assert (before["status"], before["first_contact_at"]) == ("new", None)
    response = _contact(
        api,
        complainant_id,
        contacted_at="2026-11-20T10:00:00+08:00",
        promised="三个工作日内答复",
        next_contact_due_at="2026-11-25T10:00:00+08:00",
        notice_proof="call_placed",
        proof_reference="录音 0012",
    )
    assert response.status_code == 201, response.json
    contact = response.json
    assert contact["complainant_id"] == complainant_id
    assert contact["contacted_at"] == "2026-11-20T02:00:00+00:00"
    assert (contact["channel"], contact["notice_proof"], contact["proof_reference"]) == ("phone", "call_placed", "录音 0012")
    assert contact["user_id"] == db.execute("SELECT id FROM user WHERE username = 'team'").fetchone()[0]
    row = api("team", "GET", f"/api/v1/complainants/{complainant_id}").json
    assert row["status"] == "contacted"
    assert row["first_contact_at"] == "2026-11-20T02:00:00+00:00"
    assert row["next_contact_due_at"] == "2026-11-25T02:00:00+00:00"
    assert row["version"] == before["version"] + 1
    log = api("team", "GET", f"/api/v1/complainants/{complainant_id}/contacts").json["contacts"]
    assert [c["id"] for c in log] == [contact["id"]]


def test_a_contact_without_a_time_is_now(api, db, incident):
    complainant_id = incident["guangdong"]
    response = _contact(api, complainant_id)
    assert response.status_code == 201
    row = db["complainant"].get(complainant_id)
    assert row["first_contact_at"] == response.json["contacted_at"]
    assert row["first_contact_at"] >= row["received_at"]


def test_later_contacts_keep_the_first_and_follow_the_latest_promise(api, db, incident):
    complainant_id = incident["hebei_outlet_2"]
    _received_on_19_november(api, complainant_id)
    assert _contact(api, complainant_id, contacted_at="2026-11-20T10:00:00+08:00", next_contact_due_at="2026-11-22T10:00:00+08:00").status_code == 201
    api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "negotiating"})
    assert _contact(api, complainant_id, contacted_at="2026-11-22T11:00:00+08:00", next_contact_due_at="2026-11-24T10:00:00+08:00").status_code == 201
    row = db["complainant"].get(complainant_id)
    assert row["status"] == "negotiating", "only a 'new' complainant changes status on contact"
    assert row["first_contact_at"] == "2026-11-20T02:00:00+00:00"
    assert row["next_contact_due_at"] == "2026-11-24T02:00:00+00:00"
    # a contact that promises nothing more clears the promise
    assert _contact(api, complainant_id, contacted_at="2026-11-23T09:00:00+08:00").status_code == 201
    assert db["complainant"].get(complainant_id)["next_contact_due_at"] is None
    log = api("team", "GET", f"/api/v1/complainants/{complainant_id}/contacts").json["contacts"]
    assert [c["contacted_at"] for c in log] == ["2026-11-23T01:00:00+00:00", "2026-11-22T03:00:00+00:00", "2026-11-20T02:00:00+00:00"]


def test_a_backdated_contact_does_not_replace_the_latest_promise(api, db, incident):
    """Logging yesterday's call after today's: the first contact moves back, but
    the next promised contact stays the one made in the latest contact."""
    complainant_id = incident["hebei_outlet_1"]
    _received_on_19_november(api, complainant_id)
    assert _contact(api, complainant_id, contacted_at="2026-11-22T10:00:00+08:00", next_contact_due_at="2026-11-26T10:00:00+08:00").status_code == 201
    assert _contact(api, complainant_id, contacted_at="2026-11-21T10:00:00+08:00", next_contact_due_at="2026-11-21T18:00:00+08:00").status_code == 201
    row = db["complainant"].get(complainant_id)
    assert row["first_contact_at"] == "2026-11-21T02:00:00+00:00"
    assert row["next_contact_due_at"] == "2026-11-26T02:00:00+00:00"


# --- decision deadline (Art. 18) ---------------------------------------------------------------


def _extend(api, complainant_id, level, username="lead"):
    body = {"level": level, "reason": "需要外部鉴定", "approved_by": "分管副总", "complainant_notified_at": "2026-02-20T10:00:00+08:00"}
    return api(username, "POST", f"/api/v1/complainants/{complainant_id}/extensions", json=body)


@pytest.fixture
def february_complainant(api, incident):
    # 2026 is not a leap year: 28 days in February, so calendar days and months differ
    response = _create(api, incident["id"], {"name": "吴建华", "phone": "13511112222", "province_code": "130000", "received_at": "2026-02-10T09:00:00+08:00"})
    assert response.status_code == 201
    return response.json["ids"][0]


def test_decision_is_due_15_calendar_days_after_receipt(api, february_complainant):
    row = api("lead", "GET", f"/api/v1/complainants/{february_complainant}").json
    assert row["received_at"] == "2026-02-10T01:00:00+00:00"
    # the end of 25 February in Shanghai (Art. 18, Art. 43: calendar days; the day of receipt not counted)
    assert row["decision_due_at"] == "2026-02-25T16:00:00+00:00"
    assert row["decision_last_day"] == "2026-02-25"
    assert row["extension_level"] == 0


def test_received_now_is_due_in_15_days(api, db, incident):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from console.clock import from_iso

    row = db["complainant"].get(incident["guangdong"])  # received now
    local = from_iso(row["received_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    due = from_iso(row["decision_due_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (due.hour, due.minute, due.second) == (0, 0, 0)  # the end of a day in Shanghai
    assert due.date() - local.date() == timedelta(days=16)  # the end of the 15th day after receipt


def test_extensions_level_1_then_level_2_then_no_more(api, db, february_complainant):
    complainant_id = february_complainant
    first = _extend(api, complainant_id, 1)
    assert first.status_code == 200, first.json
    # 30 calendar days from receipt: 10 Feb + 30 days = 12 March, to the end of that day
    assert first.json["decision_due_at"] == "2026-03-12T16:00:00+00:00"
    assert first.json["extension_level"] == 1
    second = _extend(api, complainant_id, 2)
    assert second.status_code == 200, second.json
    assert second.json["decision_due_at"] == "2026-04-11T16:00:00+00:00"
    assert second.json["extension_level"] == 2
    extensions = [dict(r) for r in db.query("SELECT * FROM deadline_extension WHERE complainant_id = ? ORDER BY level", [complainant_id])]
    assert [(e["level"], e["new_due_at"]) for e in extensions] == [(1, "2026-03-12T16:00:00+00:00"), (2, "2026-04-11T16:00:00+00:00")]
    assert extensions[0]["approved_by"] == "分管副总" and extensions[0]["complainant_notified_at"] == "2026-02-20T02:00:00+00:00"
    before, row = row_counts(db), dict(db["complainant"].get(complainant_id))
    for level in (3, 1, 2):
        refused = _extend(api, complainant_id, level)
        assert refused.status_code == 422, refused.json
        assert refused.json["error"]
    assert _extend(api, complainant_id, 3).json["details"][0]["field"] == "level"
    assert "twice" in _extend(api, complainant_id, 2).json["error"]
    assert row_counts(db) == before
    assert dict(db["complainant"].get(complainant_id)) == row


def test_level_2_needs_level_1_first(api, db, february_complainant):
    before = row_counts(db)
    refused = _extend(api, february_complainant, 2)
    assert refused.status_code == 422
    assert "level 1" in refused.json["error"]
    assert row_counts(db) == before


def test_extension_needs_the_notice_time_with_a_zone(api, db, february_complainant):
    before = row_counts(db)
    body = {"level": 1, "reason": "复杂", "approved_by": "x", "complainant_notified_at": "2026-02-20 10:00"}
    response = api("lead", "POST", f"/api/v1/complainants/{february_complainant}/extensions", json=body)
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == "complainant_notified_at"
    assert row_counts(db) == before


# --- group representatives (Art. 12) ------------------------------------------------------------


@pytest.fixture
def six_members(api, incident):
    g1 = incident["groups"][0]
    extra = [{"name": f"成员{i}", "phone": f"1370000{i:04d}", "province_code": "130000", "group_id": g1} for i in range(4)]
    ids = _create(api, incident["id"], extra).json["ids"]
    members = [incident["hebei_outlet_1"], incident["hebei_outlet_2"], *ids]
    assert len(members) == 6
    return g1, members


def _reps(db, group_id):
    return sorted(r["complainant_id"] for r in db.query("SELECT complainant_id FROM group_representative WHERE group_id = ?", [group_id]))


def test_a_group_chooses_at_most_5_representatives(api, db, six_members):
    group_id, members = six_members
    before = row_counts(db)
    refused = api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": members})
    assert refused.status_code == 422, refused.json
    assert "5" in refused.json["error"]
    assert refused.json["details"][0]["field"] == "representative_ids"
    assert row_counts(db) == before
    accepted = api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": members[:5]})
    assert accepted.status_code == 200, accepted.json
    assert sorted(accepted.json["representative_ids"]) == sorted(members[:5])
    assert _reps(db, group_id) == sorted(members[:5])
    # replacing the list, and clearing it
    assert api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": [members[5]]}).json["representative_ids"] == [members[5]]
    assert _reps(db, group_id) == [members[5]]
    assert api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": []}).json["representative_ids"] == []
    assert _reps(db, group_id) == []


def test_representatives_must_be_members_of_the_group(api, db, incident, six_members):
    group_id, members = six_members
    assert api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": members[:2]}).status_code == 200
    before = row_counts(db)
    for stranger in [incident["guangdong"], 999999, 10**30]:
        refused = api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": [members[0], stranger]})
        assert refused.status_code == 422, refused.json
        if stranger < 2**63:
            assert str(stranger) in refused.json["error"]
        assert refused.json["details"][0]["field"].startswith("representative_ids")
    assert row_counts(db) == before
    assert _reps(db, group_id) == sorted(members[:2])


def test_a_refused_representative_list_also_keeps_the_other_changes_out(api, db, six_members):
    group_id, members = six_members
    before_group = dict(db["complainant_group"].get(group_id))
    refused = api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"name": "改名后的组", "handling_line": "新口径", "representative_ids": members})
    assert refused.status_code == 422
    assert dict(db["complainant_group"].get(group_id)) == before_group


def test_duplicate_representatives_are_refused(api, db, six_members):
    group_id, members = six_members
    refused = api("lead", "PATCH", f"/api/v1/groups/{group_id}", json={"representative_ids": [members[0], members[0]]})
    assert refused.status_code == 422
    assert _reps(db, group_id) == []


def test_a_new_group_cannot_name_representatives_and_is_not_created(api, db, incident):
    before = row_counts(db)
    refused = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/groups", json={"name": "新组", "representative_ids": [incident["hebei_outlet_1"]]})
    assert refused.status_code == 422, refused.json
    assert row_counts(db) == before
    assert db["complainant_group"].count_where("name = ?", ["新组"]) == 0


def test_a_group_name_is_unique_in_its_incident(api, db, incident):
    before = row_counts(db)
    duplicate = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/groups", json={"name": "广东银保渠道"})
    assert duplicate.status_code == 409
    renamed = api("lead", "PATCH", f"/api/v1/groups/{incident['groups'][0]}", json={"name": "广东银保渠道"})
    assert renamed.status_code == 409
    assert row_counts(db) == before


# --- audit log ---------------------------------------------------------------------------------


def _audit_since(db, last_id):
    rows = [dict(r) for r in db.query("SELECT * FROM audit_log WHERE id > ? ORDER BY id", [last_id])]
    for r in rows:
        r["before"] = json.loads(r["before"]) if r["before"] else None
        r["after"] = json.loads(r["after"]) if r["after"] else None
    return rows


def _audited_creations(db):
    """Complainant ids the audit log records as created: one row each, or one row per call naming its ids."""
    ids = set()
    for row in db.query("SELECT row_id, after FROM audit_log WHERE table_name = 'complainant' AND action = 'create'"):
        after = json.loads(row["after"]) if row["after"] else {}
        if "count" in after and "ids" in after:
            first, last = after["ids"][0], after["ids"][-1]
            assert last - first + 1 == after["count"]
            ids.update(range(first, last + 1))
        else:
            ids.add(row["row_id"])
    return ids


def _last_audit_id(db):
    return db.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]


def test_every_write_leaves_an_audit_row_with_before_and_after(api, db, accounts):
    def step(username, method, url, body, expect):
        mark = _last_audit_id(db)
        response = api(username, method, url, json=body)
        assert response.status_code == expect, response.json
        rows = _audit_since(db, mark)
        assert rows, f"no audit row for {method} {url}"
        for r in rows:
            assert r["username"] == username
            assert r["user_id"] == db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()[0]
            assert r["route"] == f"{method} {url}"
            assert r["at"]
        return response.json, rows

    incident, rows = step("lead", "POST", "/api/v1/incidents", {"title": "账单错误", "cause": "billing", "product": "信用卡", "severity": "light"}, 201)
    incident_id = incident["id"]
    # opening an active incident also makes its playbook's first tasks, audited with it
    assert [(r["table_name"], r["row_id"], r["action"]) for r in rows][0] == ("incident", incident_id, "create")
    assert {(r["table_name"], r["action"]) for r in rows[1:]} <= {("task", "create")}
    assert rows[0]["before"] is None and rows[0]["after"]["title"] == "账单错误"

    _, rows = step("team", "PATCH", f"/api/v1/incidents/{incident_id}", {"severity": "medium"}, 200)
    assert [(r["table_name"], r["action"]) for r in rows] == [("incident", "update")]
    assert rows[0]["before"]["severity"] == "light" and rows[0]["after"]["severity"] == "medium"

    _, rows = step("lead", "POST", f"/api/v1/incidents/{incident_id}/status", {"status": "stood_down", "reason": "已平息"}, 200)
    assert rows[0]["action"] == "status"
    assert rows[0]["before"] == {"status": "active"} and rows[0]["after"] == {"status": "stood_down", "reason": "已平息"}

    group, rows = step("team", "POST", f"/api/v1/incidents/{incident_id}/groups", {"name": "第一组", "handling_line": "统一口径"}, 201)
    assert [(r["table_name"], r["row_id"], r["action"]) for r in rows] == [("complainant_group", group["id"], "create")]
    assert rows[0]["after"]["handling_line"] == "统一口径"

    one, rows = step("team", "POST", f"/api/v1/incidents/{incident_id}/complainants", {"name": "丙", "phone": "13500005555", "province_code": "130000"}, 201)
    assert [(r["table_name"], r["row_id"], r["action"]) for r in rows] == [("complainant", one["ids"][0], "create")]
    assert rows[0]["after"]["name"] == "丙" and rows[0]["after"]["status"] == "new"

    created, rows = step(
        "team",
        "POST",
        f"/api/v1/incidents/{incident_id}/complainants",
        [
            {"name": "甲", "phone": "13500003333", "province_code": "130000", "group_id": group["id"]},
            {"name": "乙", "phone": "13500004444", "province_code": "130000"},
        ],
        201,
    )
    assert {(r["table_name"], r["action"]) for r in rows} == {("complainant", "create")}
    assert set(created["ids"]) <= _audited_creations(db)
    first = created["ids"][0]

    _, rows = step("team", "PATCH", f"/api/v1/complainants/{first}", {"status": "contacted", "demands": "退款"}, 200)
    assert [(r["table_name"], r["row_id"], r["action"]) for r in rows] == [("complainant", first, "update")]
    assert rows[0]["before"]["status"] == "new" and rows[0]["after"]["status"] == "contacted"
    assert rows[0]["before"]["demands"] == "" and rows[0]["after"]["demands"] == "退款"
    assert rows[0]["after"]["version"] == 2

    _, rows = step("team", "PATCH", f"/api/v1/groups/{group['id']}", {"representative_ids": [first], "handling_line": "逐一协商"}, 200)
    assert [(r["table_name"], r["action"]) for r in rows] == [("complainant_group", "update")]
    assert rows[0]["before"]["representative_ids"] == [] and rows[0]["after"]["representative_ids"] == [first]
    assert rows[0]["before"]["handling_line"] == "统一口径" and rows[0]["after"]["handling_line"] == "逐一协商"

    contact, rows = step("team", "POST", f"/api/v1/complainants/{created['ids'][1]}/contacts", {"channel": "sms", "said": "短信告知处理进度"}, 201)
    by_table = {r["table_name"]: r for r in rows}
    assert by_table["contact"]["row_id"] == contact["id"] and by_table["contact"]["after"]["said"] == "短信告知处理进度"
    assert by_table["complainant"]["before"]["status"] == "new" and by_table["complainant"]["after"]["status"] == "contacted"

    _, rows = step(
        "lead",
        "POST",
        f"/api/v1/complainants/{first}/extensions",
        {"level": 1, "reason": "复杂", "approved_by": "总经理", "complainant_notified_at": "2026-11-23T10:00:00+08:00"},
        200,
    )
    assert [(r["table_name"], r["row_id"], r["action"]) for r in rows] == [("complainant", first, "extend_deadline")]
    assert rows[0]["before"]["extension_level"] == 0 and rows[0]["after"]["extension_level"] == 1
    assert rows[0]["before"]["decision_due_at"] != rows[0]["after"]["decision_due_at"]

    _, rows = step("legal", "POST", f"/api/v1/complainants/{first}/reveal", None, 200)
    assert [(r["table_name"], r["row_id"], r["action"]) for r in rows] == [("complainant", first, "reveal")]


def test_refused_writes_leave_no_audit_row(api, db, incident):
    mark = _last_audit_id(db)
    assert api("lead", "PATCH", f"/api/v1/complainants/{incident['hebei_outlet_1']}", json={"status": "settled"}).status_code == 422
    assert (
        api("lead", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "x", "phone": "1", "province_code": "130000"}).status_code == 422
    )
    assert api("lead", "POST", f"/api/v1/incidents/{incident['id']}/status", json={"status": "closed", "reason": "x"}).status_code == 422
    assert _audit_since(db, mark) == []


def test_audit_page_shows_the_writes_to_the_lead(login, incident):
    page = login("lead").get("/audit?table=complainant").data.decode()
    assert "POST /api/v1/incidents/" in page and "create" in page
