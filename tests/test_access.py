"""Role and scope on every route: walks the app's whole url_map, so a route
added later without a check, or with the wrong one, fails here."""

import pytest

from console import create_app
from console.access import PERMISSIONS

from .conftest import ACCOUNTS

ROLES_BY_USER = {username: role for username, (role, _scope) in ACCOUNTS.items()}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def _all_routes():
    app = create_app({"DATABASE": ":memory:", "SECRET_KEY": "x", "TESTING": True})
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            routes.append((rule.rule, rule.endpoint, method))
    return routes


ROUTES = _all_routes()


def _url(rule, incident, complainant_id):
    values = {
        "<int:incident_id>": str(incident["id"]),
        "<int:user_id>": "1",
        "<int:token_id>": "1",
        "<int:complainant_id>": str(complainant_id),
        "<int:group_id>": str(incident["groups"][0]),
        "<token>": "0" * 32,
        "<branch_code>": "HB-SJZ-01",
        "<int:alert_id>": "1",
        "<int:task_id>": "1",
        "<int:update_id>": "1",
        "<int:referral_id>": "1",
        "<int:line_id>": "1",
        "<int:document_id>": "1",
        "<int:attachment_id>": "1",
        "<int:rollup_id>": "1",
        "<int:offer_id>": "1",
        "<int:settlement_id>": "1",
        "<int:complaint_id>": "1",
        "<int:agreement_id>": "1",
        "<int:channel_id>": "1",
        "<int:rule_id>": "1",
        "<int:merge_id>": "1",
        "<any(finalise, withdraw):step>": "finalise",
        "<any(csv, xlsx):kind>": "csv",
        "<kind>": "cause",
        "<code>": "misselling",
    }
    url = rule
    for placeholder, value in values.items():
        url = url.replace(placeholder, value)
    assert "<" not in url, f"test does not know how to fill {rule}: add the parameter to _url"
    return url


def _permission(app, endpoint):
    return app.view_functions[endpoint].permission


def _request(app, login, api, username, method, url):
    if url.startswith("/api/"):
        return api(username, method, url, json={} if method != "GET" else None)
    client = login(username) if username else app.test_client()
    return client.open(url, method=method, data={})


def test_every_route_is_walked(app):
    walked = {(rule, method) for rule, _endpoint, method in ROUTES}
    assert ("/api/v1/incidents/<int:incident_id>/complainants", "POST") in walked
    assert ("/incidents/<int:incident_id>/complainants", "GET") in walked
    assert len(walked) >= 30


@pytest.mark.parametrize("rule,endpoint,method", ROUTES, ids=[f"{m} {r}" for r, _e, m in ROUTES])
def test_role_gets_what_its_permission_allows(app, login, api, incident, rule, endpoint, method):
    permission = _permission(app, endpoint)
    url = _url(rule, incident, incident["hebei_outlet_1"])
    outcomes = {}
    for username, role in ROLES_BY_USER.items():
        if username == "branch_guangdong":
            continue  # out of scope for this record: checked below
        response = _request(app, login, api, username, method, url)
        outcomes[username] = response.status_code
        assert response.status_code < 500, (username, response.data[:500])
        if permission is None:
            continue  # public: anything but a server error
        if role in PERMISSIONS[permission]:
            assert response.status_code not in (401, 403), (username, role, permission, response.data[:300])
        else:
            assert response.status_code == 403, (username, role, permission, response.status_code)
    # Not logged in
    anonymous = _request(app, login, api, None, method, url)
    assert anonymous.status_code < 500
    if permission is None:
        return
    if url.startswith("/api/"):
        assert anonymous.status_code == 401
    else:
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


COMPLAINANT_ROUTES = [r for r in ROUTES if "<int:complainant_id>" in r[0]]


@pytest.mark.parametrize("rule,endpoint,method", COMPLAINANT_ROUTES, ids=[f"{m} {r}" for r, _e, m in COMPLAINANT_ROUTES])
def test_out_of_scope_complainant_is_not_found(app, login, api, incident, rule, endpoint, method):
    """A branch contact gets 404 for another region's complainant, exactly as for one that does not exist."""
    permission = _permission(app, endpoint)
    if "branch" not in PERMISSIONS[permission]:
        # closed to the role: 403 whatever the record (checked by the test above)
        assert _request(app, login, api, "branch_guangdong", method, _url(rule, incident, incident["guangdong"])).status_code == 403
        return
    other_province = _url(rule, incident, incident["hebei_outlet_1"])
    assert _request(app, login, api, "branch_guangdong", method, other_province).status_code == 404
    other_outlet = _url(rule, incident, incident["hebei_outlet_2"])
    assert _request(app, login, api, "branch_outlet", method, other_outlet).status_code == 404
    missing = _url(rule, incident, 999999)
    assert _request(app, login, api, "branch_guangdong", method, missing).status_code == 404


def test_branch_lists_and_counts_only_their_scope(api, login, incident):
    listing = api("branch_hebei", "GET", f"/api/v1/incidents/{incident['id']}/complainants").json
    assert {c["province_code"] for c in listing["complainants"]} == {"130000"}
    assert listing["total"] == 2
    outlet = api("branch_outlet", "GET", f"/api/v1/incidents/{incident['id']}/complainants").json
    assert [c["id"] for c in outlet["complainants"]] == [incident["hebei_outlet_1"]]
    counts = api("branch_guangdong", "GET", f"/api/v1/incidents/{incident['id']}/counts").json["counts"]
    assert sum(c["count"] for c in counts) == 1
    page = login("branch_guangdong").get(f"/incidents/{incident['id']}/complainants").data.decode()
    assert "陈志明" in page and "张建国" not in page


def test_branch_cannot_create_or_move_a_complainant_outside_scope(api, db, incident):
    before = db["complainant"].count
    response = api(
        "branch_guangdong", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "王五", "phone": "13700001111", "province_code": "130000"}
    )
    assert response.status_code == 422
    assert "outside your region" in response.json["details"][0]["message"]
    moved = api("branch_guangdong", "PATCH", f"/api/v1/complainants/{incident['guangdong']}", json={"province_code": "130000"})
    assert moved.status_code == 422
    assert db["complainant"].count == before
    assert db["complainant"].get(incident["guangdong"])["province_code"] == "440000"


def test_executive_sees_no_personal_data_on_pages_they_may_open(login, incident):
    client = login("executive")
    for url in ["/incidents", f"/incidents/{incident['id']}"]:
        page = client.get(url).data.decode()
        for person in incident["people"]:
            assert person["name"] not in page
            assert person["phone"][-4:] not in page or person["phone"][:3] not in page
            assert person["id_number"] not in page
