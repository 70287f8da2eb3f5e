"""Status rules: complainants (console/status.py, through PATCH /api/v1/complainants/{id})
and incidents (POST /api/v1/incidents/{id}/status)."""

import html
import json
from collections import deque

import pytest

from console.status import ALLOWED
from console.vocabulary import COMPLAINANT_STATUSES, ESCALATION_CHANNELS

from .conftest import row_counts, settle_through_records

CHANNEL = "regulator"


def _path_to(target):
    """The shortest list of statuses that takes a 'new' complainant to ``target``."""
    previous = {"new": None}
    queue = deque(["new"])
    while queue:
        current = queue.popleft()
        for nxt in sorted(ALLOWED[current]):
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    assert target in previous, f"{target} cannot be reached from 'new'"
    path = []
    while target != "new":
        path.append(target)
        target = previous[target]
    return list(reversed(path))


def _status_body(status):
    return {"status": status, **({"escalation_channel": CHANNEL} if status == "escalated" else {})}


@pytest.fixture
def new_complainant(api, incident):
    """make() -> the id of a fresh 'new' complainant in the Hebei group."""

    def make(name="王淑芬"):
        response = api(
            "lead",
            "POST",
            f"/api/v1/incidents/{incident['id']}/complainants",
            json={"name": name, "phone": "13655556666", "province_code": "130000", "city_code": "130100", "group_id": incident["groups"][0]},
        )
        assert response.status_code == 201, response.json
        return response.json["ids"][0]

    return make


@pytest.fixture
def complainant_in(api, new_complainant):
    """complainant_in(status) -> the id of a complainant moved there along allowed steps."""

    def make(status):
        complainant_id = new_complainant()
        path = _path_to(status)
        for step in path:
            if "settled" in path and step in ("offer_made", "accepted"):
                continue  # the settlement record makes the offer and records the acceptance
            if step == "settled":
                settle_through_records(api, complainant_id, walk=False)
                continue
            response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json=_status_body(step))
            assert response.status_code == 200, (step, response.json)
            assert response.json["status"] == step
        return complainant_id

    return make


def _row(db, complainant_id):
    return dict(db["complainant"].get(complainant_id))


def _audit_rows(db, complainant_id):
    return [dict(r) for r in db.query("SELECT * FROM audit_log WHERE table_name = 'complainant' AND row_id = ? ORDER BY id", [complainant_id])]


def test_every_status_is_reachable_and_the_rules_name_only_known_statuses():
    assert set(ALLOWED) == set(COMPLAINANT_STATUSES)
    for current, nexts in ALLOWED.items():
        assert nexts <= set(COMPLAINANT_STATUSES), current
    for status in COMPLAINANT_STATUSES:
        if status != "new":
            assert _path_to(status)[-1] == status


# 'settled' is reached only by signing off a settlement record (tests/test_settlements.py)
TRANSITIONS = sorted((current, new) for current, nexts in ALLOWED.items() for new in nexts if (current, new) != ("accepted", "settled"))


def test_accepted_to_settled_by_a_status_change_is_refused(api, db, complainant_in):
    complainant_id = complainant_in("accepted")
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "settled"})
    assert response.status_code == 422 and "settlement record" in response.json["error"]
    assert _row(db, complainant_id)["status"] == "accepted"


@pytest.mark.parametrize("current,new", TRANSITIONS, ids=[f"{c}->{n}" for c, n in TRANSITIONS])
def test_every_allowed_transition_succeeds(api, db, complainant_in, current, new):
    complainant_id = complainant_in(current)
    before = _row(db, complainant_id)
    assert before["status"] == current
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={**_status_body(new), "version": before["version"]})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == new
    assert body["version"] == before["version"] + 1
    assert body["escalation_channel"] == (CHANNEL if new == "escalated" else None)
    after = _row(db, complainant_id)
    assert after["status"] == new
    assert after["escalation_channel"] == (CHANNEL if new == "escalated" else None)
    assert after["version"] == before["version"] + 1
    if new == "settled":
        assert after["settled_at"] is not None
    entry = _audit_rows(db, complainant_id)[-1]
    assert entry["action"] == "update"
    assert entry["username"] == "lead"
    assert json.loads(entry["before"])["status"] == current
    assert json.loads(entry["after"])["status"] == new


REFUSED = [
    ("new", "settled"),
    ("new", "negotiating"),
    ("new", "accepted"),
    ("new", "closed"),
    ("contacted", "offer_made"),
    ("negotiating", "settled"),
    ("offer_made", "settled"),
    ("accepted", "closed"),
    ("settled", "negotiating"),
    ("settled", "contacted"),
    ("withdrawn", "negotiating"),
    ("unreachable", "settled"),
    ("escalated", "settled"),
]


def _assert_refused_without_change(db, complainant_id, before_row, before_counts, response):
    assert response.status_code == 422, response.json
    assert isinstance(response.json["error"], str) and response.json["error"]
    assert _row(db, complainant_id) == before_row
    assert row_counts(db) == before_counts


@pytest.mark.parametrize("current,new", REFUSED, ids=[f"{c}->{n}" for c, n in REFUSED])
def test_refused_transition_says_why_and_changes_nothing(api, db, complainant_in, current, new):
    assert new not in ALLOWED[current]
    complainant_id = complainant_in(current)
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json=_status_body(new))
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)
    message = response.json["error"]
    assert f"'{current}'" in message and f"'{new}'" in message
    for allowed in ALLOWED[current]:
        assert allowed in message, (allowed, message)
    assert response.json["details"] == [{"field": "status", "message": message}]


@pytest.mark.parametrize("new", sorted(COMPLAINANT_STATUSES))
def test_closed_is_final(api, db, complainant_in, new):
    complainant_id = complainant_in("closed")
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json=_status_body(new))
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)
    message = response.json["error"]
    assert "closed" in message
    if new != "closed":
        assert "final" in message, message
    else:
        assert "already" in message, message


def test_same_status_is_refused_with_a_reason(api, db, complainant_in):
    complainant_id = complainant_in("contacted")
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "contacted"})
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)
    assert "already" in response.json["error"] and "contacted" in response.json["error"]


def test_escalated_requires_a_channel(api, db, new_complainant):
    complainant_id = new_complainant()
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "escalated"})
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)
    for channel in ESCALATION_CHANNELS:
        assert channel in response.json["error"]


def test_escalated_with_a_null_channel_is_refused(api, db, new_complainant):
    complainant_id = new_complainant()
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "escalated", "escalation_channel": None})
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)


@pytest.mark.parametrize("body", [{"status": "contacted", "escalation_channel": "media"}, {"escalation_channel": "media"}])
def test_a_channel_without_escalated_is_refused(api, db, new_complainant, body):
    complainant_id = new_complainant()
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json=body)
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)
    assert "escalated" in response.json["error"]


def test_an_unknown_channel_is_refused(api, db, new_complainant):
    complainant_id = new_complainant()
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "escalated", "escalation_channel": "television"})
    _assert_refused_without_change(db, complainant_id, before_row, before_counts, response)
    assert response.json["details"][0]["field"] == "escalation_channel"


def test_escalated_may_change_its_channel(api, db, complainant_in):
    complainant_id = complainant_in("escalated")
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "escalated", "escalation_channel": "media"})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["escalation_channel"]) == ("escalated", "media")
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"escalation_channel": "court"})
    assert response.status_code == 200, response.json
    row = _row(db, complainant_id)
    assert (row["status"], row["escalation_channel"]) == ("escalated", "court")
    # leaving 'escalated' clears the channel
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "negotiating"})
    assert response.status_code == 200, response.json
    assert _row(db, complainant_id)["escalation_channel"] is None


def test_settled_sets_settled_at_and_closing_keeps_it(api, db, complainant_in):
    complainant_id = complainant_in("negotiating")
    assert _row(db, complainant_id)["settled_at"] is None
    settled_at = settle_through_records(api, complainant_id, walk=False)["settled_at"]
    assert settled_at
    assert _row(db, complainant_id)["settled_at"] == settled_at
    assert settled_at >= _row(db, complainant_id)["received_at"]
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "closed"})
    assert response.status_code == 200, response.json
    assert response.json["settled_at"] == settled_at


def test_an_old_version_gets_409_and_changes_nothing(api, db, new_complainant):
    complainant_id = new_complainant()
    first = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"demands": "退还本金", "version": 1})
    assert first.status_code == 200 and first.json["version"] == 2
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    stale = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "contacted", "demands": "本金加利息", "version": 1})
    assert stale.status_code == 409, stale.json
    assert "version" in stale.json["error"] and "details" in stale.json
    assert _row(db, complainant_id) == before_row
    assert row_counts(db) == before_counts
    current = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": "contacted", "version": 2})
    assert current.status_code == 200 and current.json["version"] == 3


def test_html_status_form_refuses_a_wrong_step_with_the_reason(login, db, new_complainant):
    complainant_id = new_complainant()
    before_row, before_counts = _row(db, complainant_id), row_counts(db)
    response = login("team").post(f"/complainants/{complainant_id}/status", data={"status": "settled", "version": "1"})
    assert response.status_code == 422
    page = html.unescape(response.data.decode())
    assert "Cannot move from 'new' to 'settled'" in page
    assert _row(db, complainant_id) == before_row
    assert row_counts(db) == before_counts


def test_html_status_form_moves_along_an_allowed_step(login, db, new_complainant):
    complainant_id = new_complainant()
    response = login("team").post(f"/complainants/{complainant_id}/status", data={"status": "escalated", "escalation_channel": "media", "version": "1"})
    assert response.status_code == 302
    row = _row(db, complainant_id)
    assert (row["status"], row["escalation_channel"]) == ("escalated", "media")


# --- incidents -----------------------------------------------------------------


def _incident_status(api, incident_id, status, username="lead", reason="每日研判会决定"):
    return api(username, "POST", f"/api/v1/incidents/{incident_id}/status", json={"status": status, "reason": reason})


@pytest.fixture
def monitoring_incident(api, accounts):
    response = api(
        "lead",
        "POST",
        "/api/v1/incidents",
        json={"title": "结构性存款零收益", "cause": "zero yield", "product": "结构性存款", "severity": "medium", "status": "monitoring"},
    )
    assert response.status_code == 201, response.json
    assert response.json["status"] == "monitoring"
    return response.json["id"]


def test_incident_moves_monitoring_active_stood_down_closed(api, db, monitoring_incident):
    incident_id = monitoring_incident
    for status in ["active", "stood_down", "closed"]:
        response = _incident_status(api, incident_id, status, reason=f"move to {status}")
        assert response.status_code == 200, response.json
        assert response.json["status"] == status
        assert db["incident"].get(incident_id)["status"] == status
        entry = list(db.query("SELECT * FROM audit_log WHERE table_name = 'incident' AND row_id = ? ORDER BY id DESC LIMIT 1", [incident_id]))[0]
        assert entry["action"] == "status"
        assert json.loads(entry["after"]) == {"status": status, "reason": f"move to {status}"}
    assert response.json["closed_at"]
    assert db["incident"].get(incident_id)["closed_at"] == response.json["closed_at"]


def test_incident_may_be_dismissed_from_monitoring_and_reactivated_after_standing_down(api, db, monitoring_incident, incident):
    assert _incident_status(api, monitoring_incident, "closed").json["status"] == "closed"
    assert _incident_status(api, incident["id"], "stood_down").json["status"] == "stood_down"
    again = _incident_status(api, incident["id"], "active")
    assert again.status_code == 200 and again.json["status"] == "active"
    assert again.json["closed_at"] is None


@pytest.mark.parametrize(
    "path,new",
    [
        ([], "stood_down"),  # monitoring -> stood_down
        (["active"], "closed"),  # an active incident is stood down before it is closed
        (["active"], "monitoring"),
        (["active"], "active"),
        (["active", "stood_down"], "monitoring"),
        (["closed"], "active"),
        (["closed"], "monitoring"),
        (["active", "stood_down", "closed"], "stood_down"),
    ],
)
def test_refused_incident_transition_says_why_and_changes_nothing(api, db, monitoring_incident, path, new):
    for step in path:
        assert _incident_status(api, monitoring_incident, step).status_code == 200
    current = path[-1] if path else "monitoring"
    before_row, before_counts = dict(db["incident"].get(monitoring_incident)), row_counts(db)
    response = _incident_status(api, monitoring_incident, new)
    assert response.status_code == 422, response.json
    message = response.json["error"]
    assert f"'{current}'" in message and f"'{new}'" in message
    assert "details" in response.json
    assert dict(db["incident"].get(monitoring_incident)) == before_row
    assert row_counts(db) == before_counts


@pytest.mark.parametrize(
    "body,field",
    [
        ({"status": "active"}, "reason"),
        ({"status": "active", "reason": "   "}, "reason"),
        ({"status": "paused", "reason": "x"}, "status"),
        ({"reason": "x"}, "status"),
    ],
)
def test_incident_status_change_needs_a_known_status_and_a_reason(api, db, monitoring_incident, body, field):
    before_counts = row_counts(db)
    response = api("lead", "POST", f"/api/v1/incidents/{monitoring_incident}/status", json=body)
    assert response.status_code == 422, response.json
    assert field in [p["field"] for p in response.json["details"]]
    assert db["incident"].get(monitoring_incident)["status"] == "monitoring"
    assert row_counts(db) == before_counts


@pytest.mark.parametrize("username", ["team", "executive", "legal", "branch_hebei"])
def test_only_the_lead_changes_incident_status(api, db, monitoring_incident, username):
    before_counts = row_counts(db)
    response = _incident_status(api, monitoring_incident, "active", username=username)
    assert response.status_code == 403
    assert db["incident"].get(monitoring_incident)["status"] == "monitoring"
    assert row_counts(db) == before_counts


def test_a_closed_incident_takes_no_new_complainants_or_edits(api, db, incident):
    assert _incident_status(api, incident["id"], "stood_down").status_code == 200
    assert _incident_status(api, incident["id"], "closed").status_code == 200
    before_counts = row_counts(db)
    added = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "赵六", "phone": "13700002222", "province_code": "130000"})
    assert added.status_code == 422 and "closed" in added.json["error"]
    edited = api("lead", "PATCH", f"/api/v1/incidents/{incident['id']}", json={"title": "改名"})
    assert edited.status_code == 422 and "closed" in edited.json["error"]
    assert row_counts(db) == before_counts
