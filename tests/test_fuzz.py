"""Bad-input fuzzing of the JSON API against its own OpenAPI document.

For each role, schemathesis generates requests for every operation in
``/api/v1/openapi.json``, valid and invalid (its coverage phase: boundary
values, wrong types, missing and unexpected fields, wrong content types; its
fuzzing phase: random data), and sends them with that role's bearer token to
the app in process, on a real SQLite file holding a seeded incident. Every
answer must be a non-5xx that the document describes (its status code, its
content type and its body), and a request the document calls invalid must be
refused with a 4xx.

Requests should get past the 404 and into the domain code, so ids are real
ids of the seeded records: always in the coverage phase (unless the case is
about that path parameter), most of the time in the fuzzing phase (one
dictionary per path parameter ``<table>_id``, read from the database), the
rest generated, to probe the 404s. Region codes, branch codes and the ids in
bodies are drawn from the database the same way. Operations are read from the
document, so a new one is fuzzed as soon as it is declared.
"""

import base64
import os

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from console.db import connect

from .conftest import ACCOUNTS

# Every role; one branch contact scoped to a province, one to an outlet.
ROLES = ["lead", "team", "executive", "legal", "branch_hebei", "branch_outlet"]

# The coverage phase's boundary and malformed cases reach the same parsers
# whatever the role, so they run for the role that may do most (lead) and
# for the branch contact whose scope rules add checks; every role gets the
# fuzzing phase.
COVERAGE_ROLES = {"lead", "branch_hebei"}

# Bounded so the run stays fast (about 60 s for 57 operations x 6 roles on 2
# cores): fuzzing-phase examples per operation a role may use, and for an
# operation it may not use (all 403; the coverage phase is skipped there).
# FUZZ_SEED and FUZZ_EXAMPLES change them for a longer hunt on a workstation.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
FORBIDDEN_EXAMPLES = 2
SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
REAL_VALUE_PROBABILITY = 0.75

# A parameter "<stem>_id" takes ids from the table <stem>, unless named here.
TABLES = {
    "group": "complainant_group",
    "line": "agreed_line",
    "offer": "settlement_offer",
    "agreement": "confidentiality_agreement",
    "handler": "user",
    "owner_user": "user",
    "representative": "complainant",
    "complaint": "intake_complaint",
    "rule": "channel_rule",
    "merge": "complainant_merge",
}

# Body fields that refer to records or places, and where their values come from.
BODY_VALUES = {
    "province_code": "SELECT code FROM province WHERE code IN (SELECT province_code FROM branch) ORDER BY code",
    "city_code": "SELECT code FROM city WHERE code IN (SELECT city_code FROM branch) ORDER BY code",
    "branch_code": "SELECT code FROM branch ORDER BY code",
    "group_id": "SELECT id FROM complainant_group ORDER BY id",
    "handler_id": "SELECT id FROM user ORDER BY id",
    "owner_user_id": "SELECT id FROM user ORDER BY id",
    "task_id": "SELECT id FROM task ORDER BY id",
    "representative_ids[*]": "SELECT id FROM complainant ORDER BY id",
    "other_id": "SELECT id FROM complainant ORDER BY id",
}

CHECKS = [negative_data_rejection, not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(params=ROLES)
def role(request):
    return request.param


@pytest.fixture
def seeded(api, incident, db):
    """The conftest incident plus one of each record the API addresses by id."""
    incident_id = incident["id"]
    complainant = incident["hebei_outlet_1"]
    calls = [
        ("lead", "POST", f"/api/v1/complainants/{complainant}/contacts", {"channel": "phone", "said": "已回电，约定周五面谈"}),
        ("lead", "POST", f"/api/v1/incidents/{incident_id}/rollups", None),
        ("lead", "POST", f"/api/v1/incidents/{incident_id}/referrals", {"party": "regulator", "recipient": "河北银保监局", "what_sent": "首报"}),
        ("lead", "POST", f"/api/v1/incidents/{incident_id}/agreed-lines", {"text": "我行高度重视，正逐一核实。"}),
        ("branch_outlet", "POST", f"/api/v1/incidents/{incident_id}/updates", {"people_on_site": 150, "mood": "tense", "banners": True}),
    ]
    for username, method, url, body in calls:
        response = api(username, method, url, json=body)
        assert response.status_code == 201, (url, response.json)
    # an alert channel (a webhook to a closed port on this machine: a test-send fails at once) and a rule
    channel = api("lead", "POST", "/api/v1/channels", json={"kind": "webhook", "name": "网关", "url": "http://127.0.0.1:9/closed", "secret": "fuzz-secret-1"})
    assert channel.status_code == 201, channel.json
    rule = api("lead", "POST", "/api/v1/channel-rules", json={"channel_id": channel.json["id"], "kinds": ["group_visit"], "scope_code": "130000"})
    assert rule.status_code == 201, rule.json
    # a settlement with its agreement, for the other complainant of group 1
    person, group = incident["hebei_outlet_2"], incident["groups"][0]
    terms = {"principal_pct": 100, "interest_pct": 50, "pays_expenses": True, "text": "退还全部本金，利息按诉求的一半补偿。"}
    assert api("legal", "PUT", f"/api/v1/groups/{group}/terms", json=terms).status_code == 200
    for status in ("contacted", "negotiating"):
        assert api("team", "PATCH", f"/api/v1/complainants/{person}", json={"status": status}).status_code == 200
    offer = api("legal", "POST", f"/api/v1/complainants/{person}/offers", json={})
    assert offer.status_code == 201, offer.json
    settlement = api("legal", "POST", f"/api/v1/offers/{offer.json['id']}/accept")
    assert settlement.status_code == 201, settlement.json
    agreement = {
        "parties": "本公司；李秀英",
        "signed_on": "2026-11-20",
        "liquidated_damages": 13000,
        "estimated_loss": 10000,
        "clause_version": "CA-2026-01",
        "witness_reference": "录音 2026-11-20 14:05",
        "document_name": "agreement.pdf",
        "document_base64": base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode(),
    }
    kept = api("legal", "POST", f"/api/v1/settlements/{settlement.json['id']}/agreement", json=agreement)
    assert kept.status_code == 201, kept.json
    # a merge (issue 17), for the undo operation: a second 张建国 at the same outlet merged into the first
    twin = api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident_id}/complainants",
        json={"name": "张建国", "phone": "13500009999", "province_code": "130000", "city_code": "130100", "branch_code": "HB-SJZ-01"},
    )
    assert twin.status_code == 201, twin.json
    merged = api("team", "POST", f"/api/v1/complainants/{complainant}/merge", json={"other_id": twin.json["ids"][0], "reason": "同一人"})
    assert merged.status_code == 201, merged.json
    # an intake complaint the surge monitor set aside, for the release operation
    received = api(
        "team",
        "POST",
        "/api/v1/complaints",
        json={
            "channel": "hotline",
            "product": "分红险",
            "cause_code": "misselling",
            "province_code": "130000",
            "customer_name": "周某",
            "customer_phone": "13900001111",
        },
    )
    assert received.status_code == 201, received.json
    with db.conn:
        db.execute("UPDATE intake_complaint SET quarantined_at = '2026-11-23T01:00:00+00:00', quarantine_reason = 'branch_code is not in city 130200'")
    assert db["task"].count and db["alert"].count, "the playbook made no tasks, or the crowd rule raised no alert"
    return incident


def _column(db, sql):
    return [row[0] for row in db.execute(sql).fetchall()]


def _path_values(db, document):
    """Real values for each path parameter of the document, read from the database."""
    names = {p["name"] for item in document["paths"].values() for op in item.values() for p in op.get("parameters", []) if p["in"] == "path"}
    tables = set(db.table_names())
    values = {}
    for name in names:
        if name == "branch_code":
            values[name] = _column(db, BODY_VALUES["branch_code"])
        elif name == "kind":  # the catalogue's entry kinds
            values[name] = ["cause", "product"]
        elif name == "code":  # a catalogue code: the seeded incident's cause
            values[name] = _column(db, "SELECT DISTINCT cause FROM incident ORDER BY cause")
        elif name.endswith("_id") and TABLES.get(name[:-3], name[:-3]) in tables:
            values[name] = _column(db, f"SELECT id FROM [{TABLES.get(name[:-3], name[:-3])}] ORDER BY id")
    return {name: found for name, found in values.items() if found}


def _config(document, role_name, token, path_values, body_values, coverage):
    """The schemathesis configuration for one role."""
    dictionaries = {f"path_{name}": found for name, found in path_values.items()}
    dictionaries.update({f"body_{name}": found for name, found in body_values.items()})
    parameters = {f"path.{name}": f"path_{name}" for name in path_values}
    for field in body_values:
        parameters[f"body.{field}"] = f"body_{field}"
        parameters[f"body.[*].{field}"] = f"body_{field}"  # the array form of one-or-many bodies
    forbidden = [op["operationId"] for item in document["paths"].values() for op in item.values() if "x-roles" in op and role_name not in op["x-roles"]]
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"coverage": {"enabled": coverage}},
            "dictionaries": {name: {"values": found} for name, found in dictionaries.items()},
            "parameters": {key: {"dictionary": name, "probability": REAL_VALUE_PROBABILITY} for key, name in parameters.items()},
            "operations": [{"include-operation-id": forbidden, "generation": {"max-examples": FORBIDDEN_EXAMPLES}, "phases": {"coverage": {"enabled": False}}}]
            if forbidden
            else [],
        }
    )


@pytest.fixture
def fuzz_values(app, seeded):
    document = app.test_client().get("/api/v1/openapi.json").json
    handle = connect(app.config["DATABASE"])
    try:
        return document, _path_values(handle, document), {field: _column(handle, sql) for field, sql in BODY_VALUES.items()}
    finally:
        handle.close()


@pytest.fixture
def fuzz_schema(app, fuzz_values, tokens, role):
    """The API's document loaded by schemathesis for ``role``."""
    document, path_values, body_values = fuzz_values
    config = _config(document, ACCOUNTS[role][0], tokens[role], path_values, {k: v for k, v in body_values.items() if v}, role in COVERAGE_ROLES)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def _real_path_ids(case, path_values):
    """Coverage cases probe one parameter or the body at a time: the other path
    parameters are real ids, so the request reaches the code that reads the body."""
    meta = case.meta
    if meta is None or meta.phase.name.value != "coverage" or not case.path_parameters:
        return
    probed = meta.phase.data.parameter if meta.phase.data.parameter_location == "path" else None
    for name in case.path_parameters:
        if name != probed and name in path_values:
            case.path_parameters[name] = path_values[name][0]


def test_every_path_parameter_has_real_values(fuzz_values):
    """So that no operation is fuzzed with unknown ids only: a new kind of record
    addressed by id needs a row in ``seeded`` (or its table named in TABLES)."""
    document, path_values, body_values = fuzz_values
    names = {p["name"] for item in document["paths"].values() for op in item.values() for p in op.get("parameters", []) if p["in"] == "path"}
    assert names and names == set(path_values), sorted(names - set(path_values))
    assert all(body_values.values()), [field for field, found in body_values.items() if not found]


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case, fuzz_values):
    _real_path_ids(case, fuzz_values[1])
    case.call_and_validate(checks=CHECKS)
