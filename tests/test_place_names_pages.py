"""Outlet codes where names belong: the complainant page, a branch's timeline and
the branch reports page show the outlet's name (the `place` filter, console/org.py);
the code, where it is kept, is secondary small text beside the name."""

import re

CODE = re.compile(r"\b(?:HB-SJZ-0\d|GD-GZ-0\d)\b")


def _visible_codes(body):
    """Outlet codes in the page's text, outside small secondary text and outside
    form values, scripts and attributes."""
    body = re.sub(r"(?s)<(script|style|select)\b.*?</\1>", "", body)
    body = re.sub(r'(?s)<span class="[^"]*\bsmall\b[^"]*">[^<]*</span>', "", body)
    return CODE.findall(re.sub(r"<[^>]*>", " ", body))


def _post(api, incident_id, code, user):
    response = api(user, "POST", f"/api/v1/incidents/{incident_id}/updates", json={"branch_code": code, "people_on_site": 3, "mood": "calm"})
    assert response.status_code == 201, response.json


def test_pages_name_outlets_not_codes(api, login, incident):
    _post(api, incident["id"], "HB-SJZ-01", "branch_hebei")
    # the same name at the same outlet: the complainant page lists a possible match, by outlet
    again = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json=[{"name": "张建国", "phone": "13800001111", "province_code": "130000", "city_code": "130100", "branch_code": "HB-SJZ-01"}],
    )
    assert again.status_code == 201, again.json
    lead = login("lead")
    pages = {
        "complainant": f"/complainants/{incident['hebei_outlet_1']}",
        "timeline": f"/incidents/{incident['id']}/branches/HB-SJZ-01",
        "reports": f"/incidents/{incident['id']}/reports",
    }
    for name, path in pages.items():
        response = lead.get(path, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 200, (name, response.status_code)
        body = response.get_data(as_text=True)
        assert "石家庄中山路网点" in body, name
        if name == "complainant":
            assert 'id="matches"' in body  # the possible-match table is on the page, naming the outlet
        assert _visible_codes(body) == [], (name, _visible_codes(body))
