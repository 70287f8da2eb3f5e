"""Masking of personal data (PIPL): the helpers, every API response and page
that shows a complainant, and the logged reveal."""

import json

import pytest

from console.masking import mask_bank_card, mask_complainant, mask_id_number, mask_phone

from .conftest import row_counts

# --- console/masking.py ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value,masked",
    [
        ("110109199003071234", "110***********1234"),
        ("13010919600202222X", "130***********222X"),
        ("110101900307123", "110********7123"),  # 15-digit ID
    ],
)
def test_id_number_keeps_first_3_and_last_4(value, masked):
    assert mask_id_number(value) == masked
    assert len(mask_id_number(value)) == len(value)


@pytest.mark.parametrize("value,masked", [("13812341234", "138****1234"), ("13900005678", "139****5678"), ("+8613812341234", "+86*******1234")])
def test_phone_keeps_first_3_and_last_4(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize("value,masked", [("6222021234567890123", "622202*********0123"), ("6217000010001234", "621700******1234")])
def test_bank_card_keeps_first_6_and_last_4(value, masked):
    assert mask_bank_card(value) == masked


@pytest.mark.parametrize(
    "mask,value", [(mask_phone, "1234567"), (mask_phone, "12345"), (mask_id_number, "1101234"), (mask_bank_card, "6222021234"), (mask_phone, "1")]
)
def test_values_too_short_to_mask_partly_are_hidden_entirely(mask, value):
    masked = mask(value)
    assert masked == "*" * len(value)
    assert not any(ch.isdigit() for ch in masked)


@pytest.mark.parametrize("mask", [mask_phone, mask_id_number, mask_bank_card])
def test_empty_values_stay_empty(mask):
    assert mask(None) == ""
    assert mask("") == ""


def test_just_longer_than_the_kept_parts_hides_the_middle():
    assert mask_phone("12345678") == "123*5678"
    assert mask_bank_card("62220212345") == "622202*2345"


def test_mask_complainant_masks_a_copy():
    row = {"id": 1, "name": "张建国", "phone": "13812345678", "id_number": "130105195501011234"}
    masked = mask_complainant(row)
    assert masked == {"id": 1, "name": "张建国", "phone": "138****5678", "id_number": "130***********1234"}
    assert row["phone"] == "13812345678" and row["id_number"] == "130105195501011234"
    assert mask_complainant({"phone": "13812345678", "id_number": None})["id_number"] == ""


# --- the API -------------------------------------------------------------------------------


def _full_values(incident):
    return [p["phone"] for p in incident["people"]] + [p["id_number"] for p in incident["people"]]


def _assert_no_full_values(text, values):
    for value in values:
        assert value not in text, value
        assert value.lower() not in text.lower(), value


def test_api_list_is_masked(api, incident):
    for query in ["", "?q=138", "?q=5678", "?per_page=500", "?province_code=130000"]:
        response = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/complainants{query}")
        assert response.status_code == 200
        _assert_no_full_values(response.get_data(as_text=True), _full_values(incident))
    listing = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/complainants").json["complainants"]
    by_id = {c["id"]: c for c in listing}
    assert by_id[incident["hebei_outlet_1"]]["phone"] == "138****5678"
    assert by_id[incident["hebei_outlet_1"]]["id_number"] == "130***********1234"
    assert by_id[incident["hebei_outlet_2"]]["id_number"] == "130***********222X"


@pytest.mark.parametrize("username", ["lead", "team", "legal", "branch_hebei"])
def test_api_read_is_masked_for_every_role(api, incident, username):
    response = api(username, "GET", f"/api/v1/complainants/{incident['hebei_outlet_1']}")
    assert response.status_code == 200
    assert response.json["phone"] == "138****5678"
    assert response.json["id_number"] == "130***********1234"
    _assert_no_full_values(response.get_data(as_text=True), _full_values(incident))


def test_api_update_responses_are_masked(api, db, incident):
    complainant_id = incident["hebei_outlet_1"]
    new_phone, new_id = "13566667777", "110109199003071234"
    response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"phone": new_phone, "id_number": new_id})
    assert response.status_code == 200, response.json
    assert response.json["phone"] == "135****7777"
    assert response.json["id_number"] == "110***********1234"
    _assert_no_full_values(response.get_data(as_text=True), [new_phone, new_id] + _full_values(incident))
    # stored in full
    row = db["complainant"].get(complainant_id)
    assert (row["phone"], row["id_number"]) == (new_phone, new_id)
    for url, body in [
        (f"/api/v1/complainants/{complainant_id}", {"status": "contacted"}),
        (
            f"/api/v1/complainants/{complainant_id}/extensions",
            {"level": 1, "reason": "复杂", "approved_by": "部门负责人", "complainant_notified_at": "2026-11-23T10:00:00+08:00"},
        ),
    ]:
        method = "PATCH" if url.endswith(str(complainant_id)) else "POST"
        response = api("lead", method, url, json=body)
        assert response.status_code == 200, response.json
        _assert_no_full_values(response.get_data(as_text=True), [new_phone, new_id])


def test_api_create_and_counts_and_contacts_carry_no_full_values(api, incident):
    created = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json={"name": "孙丽", "phone": "13344445555", "id_number": "440109198808085555", "province_code": "440000"},
    )
    assert created.status_code == 201
    _assert_no_full_values(created.get_data(as_text=True), ["13344445555", "440109198808085555"])
    for url in [
        f"/api/v1/incidents/{incident['id']}/counts",
        f"/api/v1/complainants/{incident['hebei_outlet_1']}/contacts",
        f"/api/v1/incidents/{incident['id']}/groups",
    ]:
        response = api("lead", "GET", url)
        assert response.status_code == 200
        _assert_no_full_values(response.get_data(as_text=True), _full_values(incident))


# --- the HTML pages ------------------------------------------------------------------------


def test_html_list_shows_masked_values(login, incident):
    page = login("team").get(f"/incidents/{incident['id']}/complainants").data.decode()
    assert "138****5678" in page and "130***********1234" in page
    assert "137****5678" in page and "440***********3333" in page
    _assert_no_full_values(page, _full_values(incident))


def test_html_search_by_phone_shows_masked_values(login, incident):
    page = login("team").get(f"/incidents/{incident['id']}/complainants?q=13812345678").data.decode()
    assert "张建国" in page and "李秀英" not in page
    assert "138****5678" in page
    assert "130105195501011234" not in page
    # the search box and the language links repeat what the user typed; the table itself stays masked
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "138****5678" in table and "13812345678" not in table


@pytest.mark.parametrize("url", ["/complainants/{id}", "/complainants/{id}/edit"])
def test_html_complainant_page_and_edit_form_show_masked_values(login, incident, url):
    page = login("team").get(url.format(id=incident["hebei_outlet_1"])).data.decode()
    assert "138****5678" in page and "130***********1234" in page
    _assert_no_full_values(page, _full_values(incident))


# --- reveal --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["lead", "team", "legal", "branch_hebei"])
def test_reveal_returns_the_full_values_and_is_audited(api, db, incident, username):
    complainant_id = incident["hebei_outlet_2"]
    before = row_counts(db)
    response = api(username, "POST", f"/api/v1/complainants/{complainant_id}/reveal")
    assert response.status_code == 200, response.json
    assert response.json == {"phone": "13912345678", "id_number": "13010919600202222X"}
    after = row_counts(db)
    assert after["audit_log"] == before["audit_log"] + 1
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}
    entry = dict(list(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))[0])
    assert entry["action"] == "reveal"
    assert entry["table_name"] == "complainant" and entry["row_id"] == complainant_id
    user_id = db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()[0]
    assert entry["username"] == username and entry["user_id"] == user_id
    assert entry["route"] == f"POST /api/v1/complainants/{complainant_id}/reveal"
    assert entry["at"]
    # the log says who looked, not what they saw
    assert "13912345678" not in json.dumps(entry, ensure_ascii=False)


def test_each_reveal_is_logged_again(api, db, incident):
    complainant_id = incident["hebei_outlet_1"]
    for _ in range(3):
        assert api("team", "POST", f"/api/v1/complainants/{complainant_id}/reveal").status_code == 200
    assert db["audit_log"].count_where("action = 'reveal' AND row_id = ?", [complainant_id]) == 3


def test_executive_may_not_reveal(api, login, db, incident):
    before = row_counts(db)
    response = api("executive", "POST", f"/api/v1/complainants/{incident['hebei_outlet_1']}/reveal")
    assert response.status_code == 403
    assert "13812345678" not in response.get_data(as_text=True)
    html_response = login("executive").post(f"/complainants/{incident['hebei_outlet_1']}/reveal")
    assert html_response.status_code == 403
    assert "13812345678" not in html_response.get_data(as_text=True)
    assert row_counts(db) == before


def test_out_of_scope_reveal_is_404_and_not_logged(api, db, incident):
    before = row_counts(db)
    response = api("branch_guangdong", "POST", f"/api/v1/complainants/{incident['hebei_outlet_1']}/reveal")
    assert response.status_code == 404
    assert "13812345678" not in response.get_data(as_text=True)
    assert row_counts(db) == before


def test_html_reveal_shows_the_full_values_and_is_audited(login, db, incident):
    complainant_id = incident["hebei_outlet_1"]
    client = login("legal")
    assert "13812345678" not in client.get(f"/complainants/{complainant_id}").data.decode()
    response = client.post(f"/complainants/{complainant_id}/reveal")
    assert response.status_code == 200
    page = response.data.decode()
    assert "13812345678" in page and "130105195501011234" in page
    entry = dict(list(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))[0])
    assert (entry["action"], entry["row_id"], entry["username"]) == ("reveal", complainant_id, "legal")
    # the next ordinary view is masked again
    assert "13812345678" not in client.get(f"/complainants/{complainant_id}").data.decode()
