"""Issue 17: one person, one record, across every channel.

The same person arriving by hotline, outlet and a regulator transfer is one
complainant with three complaints, whose decision deadline is the transfer's;
a merge and its undo restore everything; a wrong ID check character is
refused; a bulk import with repeats links them; search by name (two-character pieces),
whole number (hash, audited), reference, flags, keyset pages.
"""

import io
import json
import random
import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from console import complainants, merges
from console.clock import from_iso, to_iso, utcnow
from console.identity import id_check_character, id_hash, matching_key, normal_id_number, normal_phone, phone_hash

from .conftest import ACCOUNTS  # noqa: F401


def _id(first17):
    return first17 + id_check_character(first17)


PERSON = {
    "name": "刘桂兰",
    "phone": "13622223333",
    "id_number": _id("13010519520303222"),
    "province_code": "130000",
    "city_code": "130100",
    "branch_code": "HB-SJZ-01",
}


def _post(api, incident_id, body, user="lead"):
    return api(user, "POST", f"/api/v1/incidents/{incident_id}/complainants", json=body)


def _complaints(db, complainant_id):
    return [dict(r) for r in db.query("SELECT * FROM complaint WHERE complainant_id = ? ORDER BY id", [complainant_id])]


# --- identity rules ------------------------------------------------------------------


def test_check_character_follows_gb_11643():
    # the standard's own example: 11010519491231002X
    assert id_check_character("11010519491231002") == "X"
    assert normal_id_number("110105491231002") == "11010519491231002X"  # 15 digits become the 18 they were reissued as
    assert normal_phone("+86 138-1234-5678") == normal_phone("0086 13812345678") == "13812345678"
    key = matching_key("s")
    assert phone_hash(key, "+86 138 1234 5678") == phone_hash(key, "13812345678")
    assert id_hash(key, "110105491231002") == id_hash(key, "11010519491231002x")
    assert phone_hash(matching_key("other"), "13812345678") != phone_hash(key, "13812345678")  # keyed: the secret matters
    assert isinstance(phone_hash(key, "13812345678"), int) and 0 < phone_hash(key, "13812345678") < 2**63


@pytest.mark.parametrize("lang, words", [("en", "check character"), ("zh-CN", "校验")])
def test_a_wrong_check_character_is_refused_with_a_clear_422(api, db, incident, lang, words):
    good = _id("13010519520303222")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    before = db["complainant"].count
    response = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={**PERSON, "id_number": wrong}, headers={"Accept-Language": lang})
    assert response.status_code == 422
    problem = response.json["details"][0]
    assert problem["field"] == "id_number" and words in problem["message"] and good[17] in problem["message"]
    assert db["complainant"].count == before
    # and on a change, and in a form
    patched = api("lead", "PATCH", f"/api/v1/complainants/{incident['hebei_outlet_1']}", json={"id_number": wrong})
    assert patched.status_code == 422 and patched.json["details"][0]["field"] == "id_number"


def test_hashes_not_clear_numbers_are_what_matching_reads(api, db, incident):
    row = db["complainant"].get(incident["hebei_outlet_1"])
    assert row["phone_hash"] and row["id_hash"]
    assert str(row["phone_hash"]) != row["phone"] and str(row["id_hash"]) != row["id_number"]
    assert row["phone_hash"] == phone_hash(matching_key("test"), row["phone"])
    # matching uses the indexes on the hashes
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT id FROM complainant WHERE phone_hash = ? AND incident_id = ?", ["x", 1]).fetchall())
    assert "complainant_phone_hash" in plan


# --- one person, three channels -----------------------------------------------------


def test_hotline_outlet_and_regulator_transfer_make_one_complainant_with_three_complaints(api, db, incident):
    now = utcnow()
    received = now - timedelta(days=3)
    hotline = _post(api, incident["id"], {**PERSON, "channel": "hotline", "reference": "95511-0001", "demands": "退还本金", "received_at": to_iso(received)})
    assert hotline.status_code == 201, hotline.json
    (person_id,) = hotline.json["ids"]
    assert hotline.json["new"] == 1 and hotline.json["linked"] == []
    first_due = db["complainant"].get(person_id)["decision_due_at"]

    # at the outlet: the phone written differently, no ID number
    outlet = _post(
        api,
        incident["id"],
        {
            **PERSON,
            "id_number": None,
            "phone": "+86 136-2222-3333",
            "channel": "outlet",
            "demands": "要求见经理",
            "received_at": to_iso(received + timedelta(days=1)),
        },
    )
    assert outlet.status_code == 201 and outlet.json["ids"] == [person_id] and outlet.json["linked"] == [0] and outlet.json["new"] == 0
    assert db["complainant"].get(person_id)["decision_due_at"] == first_due  # a later arrival never puts the deadline back

    # transferred by the regulator's 12378 with a reply deadline five days out: it governs
    reply_due = now + timedelta(days=5)
    transfer = _post(
        api,
        incident["id"],
        {
            **PERSON,
            "name": "刘桂兰",
            "phone": "13900000000",
            "channel": "regulator_transfer",
            "transfer_reference": "12378-2026-0042",
            "reply_due_at": to_iso(reply_due),
            "demands": "监管转办：要求退保",
            "received_at": to_iso(now),
        },
    )
    assert transfer.status_code == 201, transfer.json
    assert transfer.json["ids"] == [person_id]

    assert db["complainant"].count_where("incident_id = ? AND name = ?", [incident["id"], "刘桂兰"]) == 1
    complaints = _complaints(db, person_id)
    assert [c["channel"] for c in complaints] == ["hotline", "outlet", "regulator_transfer"]
    assert complaints[0]["reference"] == "95511-0001" and complaints[1]["asked"] == "要求见经理"
    assert complaints[2]["transferring_body"] == "12378" and complaints[2]["transfer_reference"] == "12378-2026-0042"
    assert complaints[2]["reply_due_at"] == to_iso(reply_due)
    person = db["complainant"].get(person_id)
    assert person["decision_due_at"] == to_iso(reply_due) < first_due

    # the API lists them newest first, and the history shows them by channel
    listed = api("team", "GET", f"/api/v1/complainants/{person_id}/complaints").json["complaints"]
    assert [c["channel"] for c in listed] == ["regulator_transfer", "outlet", "hotline"]
    api("team", "POST", f"/api/v1/complainants/{person_id}/contacts", json={"channel": "phone", "said": "已回电", "promised": "三日内答复"})
    history = api("team", "GET", f"/api/v1/complainants/{person_id}/history").json
    assert history["by_channel"] == {"hotline": 1, "outlet": 1, "regulator_transfer": 1}
    kinds = [e["kind"] for e in history["entries"]]
    assert kinds[:2] in (["promise", "contact"], ["contact", "promise"]) and kinds.count("complaint") == 3
    assert [e["at"] for e in history["entries"]] == sorted((e["at"] for e in history["entries"]), reverse=True)


def test_a_transfer_needs_its_reference_and_reply_deadline(api, db, incident):
    response = _post(api, incident["id"], {**PERSON, "channel": "consumer_association"})
    assert response.status_code == 422
    assert {p["field"] for p in response.json["details"]} == {"transfer_reference", "reply_due_at"}
    direct = _post(api, incident["id"], {**PERSON, "channel": "hotline", "transfer_reference": "X-1"})
    assert direct.status_code == 422 and direct.json["details"][0]["field"] == "transfer_reference"


def test_forwarding_never_resets_the_deadline_and_an_extension_cannot_pass_a_transfer(app, api, db, incident):
    person_id = incident["hebei_outlet_1"]
    before = db["complainant"].get(person_id)["decision_due_at"]
    later = to_iso(from_iso(before) + timedelta(days=20))
    added = api(
        "team",
        "POST",
        f"/api/v1/complainants/{person_id}/complaints",
        json={"channel": "court", "transferring_body": "石家庄中院", "transfer_reference": "(2026)冀01民初1号", "reply_due_at": later},
    )
    assert added.status_code == 201, added.json
    assert db["complainant"].get(person_id)["decision_due_at"] == before  # a later deadline changes nothing
    sooner = to_iso(utcnow() + timedelta(days=2))
    added = api(
        "team",
        "POST",
        f"/api/v1/complainants/{person_id}/complaints",
        json={"channel": "consumer_association", "transfer_reference": "12315-77", "reply_due_at": sooner},
    )
    assert added.status_code == 201 and added.json["transferring_body"] == "12315"
    assert db["complainant"].get(person_id)["decision_due_at"] == sooner
    extended = api(
        "lead",
        "POST",
        f"/api/v1/complainants/{person_id}/extensions",
        json={"level": 1, "reason": "案情复杂", "approved_by": "分管副总", "complainant_notified_at": to_iso(utcnow())},
    )
    assert extended.status_code == 200
    assert db["complainant"].get(person_id)["decision_due_at"] == sooner


def test_a_family_sharing_a_phone_stays_two_people(api, db, incident):
    first = _post(api, incident["id"], PERSON).json["ids"][0]
    spouse = _post(api, incident["id"], {**PERSON, "name": "王德明", "id_number": _id("13010519500101111")}).json
    assert spouse["ids"] != [first] and spouse["new"] == 1


def test_another_incident_is_shown_to_those_allowed_to_see_both(api, db, incident):
    other = api("lead", "POST", "/api/v1/incidents", json={"title": "银行理财到期未兑付", "cause": "wmp", "product": "理财", "severity": "medium"}).json["id"]
    made = _post(api, other, {"name": "张建国", "phone": "138 1234 5678", "province_code": "130000", "branch_code": "HB-SJZ-01", "city_code": "130100"})
    assert made.status_code == 201 and made.json["also_in_incidents"] == [incident["id"]] and made.json["new"] == 1
    theirs = made.json["ids"][0]
    assert api("lead", "GET", f"/api/v1/complainants/{theirs}/matches").json["also_in_incidents"] == [incident["id"]]
    assert api("branch_outlet", "GET", f"/api/v1/complainants/{theirs}/matches").json["also_in_incidents"] == [incident["id"]]
    # a Guangdong person in two incidents: a Hebei contact sees neither, the lead sees the link
    gd = _post(api, other, {"name": "陈志明", "phone": "13712345678", "province_code": "440000"}).json["ids"][0]
    assert api("lead", "GET", f"/api/v1/complainants/{gd}/matches").json["also_in_incidents"] == [incident["id"]]
    assert api("branch_hebei", "GET", f"/api/v1/complainants/{gd}/matches").status_code == 404
    # someone outside the viewer's scope in the other incident is not revealed through a create
    made = _post(api, other, {"name": "陈某", "phone": "13712345678", "province_code": "130000"}, user="branch_hebei")
    assert made.status_code == 201 and made.json["also_in_incidents"] == []


# --- possible matches, merge and undo ---------------------------------------------


def test_same_name_at_the_same_outlet_is_suggested_never_merged(api, db, incident):
    twin = _post(
        api, incident["id"], {"name": "张建国", "phone": "13500009999", "province_code": "130000", "city_code": "130100", "branch_code": "HB-SJZ-01"}
    ).json
    assert twin["new"] == 1
    twin_id = twin["ids"][0]
    matches = api("team", "GET", f"/api/v1/complainants/{twin_id}/matches").json
    assert [m["id"] for m in matches["possible"]] == [incident["hebei_outlet_1"]]
    assert db["complainant"].count_where("id IN (?, ?)", [twin_id, incident["hebei_outlet_1"]]) == 2
    # the team says they are different people: no longer suggested
    assert api("branch_hebei", "POST", f"/api/v1/complainants/{twin_id}/not-same", json={"other_id": incident["hebei_outlet_1"]}).status_code == 403
    after = api("team", "POST", f"/api/v1/complainants/{twin_id}/not-same", json={"other_id": incident["hebei_outlet_1"]})
    assert after.status_code == 200 and after.json["possible"] == []


def _state(db, *ids):
    out = {}
    for complainant_id in ids:
        snap = merges.snapshot(db, complainant_id)
        for field in ("version", "updated_at"):
            snap["complainant"].pop(field)
        out[complainant_id] = json.loads(json.dumps(snap, default=str))
    return out


def test_a_merge_keeps_everything_and_its_undo_restores_everything(app, api, db, incident):
    kept = incident["hebei_outlet_1"]
    twin = _post(
        api,
        incident["id"],
        {
            "name": "张建国",
            "phone": "13500009999",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "flags": ["organiser"],
            "received_at": to_iso(utcnow() - timedelta(days=4)),
        },
    ).json["ids"][0]
    api(
        "team",
        "POST",
        f"/api/v1/complainants/{twin}/contacts",
        json={"channel": "visit", "said": "到网点反映", "promised": "周五前回电", "next_contact_due_at": to_iso(utcnow() + timedelta(hours=5))},
    )
    api(
        "team",
        "POST",
        f"/api/v1/complainants/{twin}/complaints",
        json={"channel": "regulator_transfer", "transfer_reference": "12378-9", "reply_due_at": to_iso(utcnow() + timedelta(days=3))},
    )
    api(
        "lead",
        "POST",
        f"/api/v1/complainants/{twin}/extensions",
        json={"level": 1, "reason": "复杂", "approved_by": "副总", "complainant_notified_at": to_iso(utcnow())},
    )
    api("team", "POST", f"/api/v1/complainants/{kept}/contacts", json={"channel": "phone", "said": "已联系"})
    before = _state(db, kept, twin)
    counts_before = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/counts").json

    assert api("branch_hebei", "POST", f"/api/v1/complainants/{kept}/merge", json={"other_id": twin, "reason": "同一人"}).status_code == 403
    merged = api("team", "POST", f"/api/v1/complainants/{kept}/merge", json={"other_id": twin, "reason": "同一人，两个手机号"})
    assert merged.status_code == 201, merged.json
    record = merged.json
    assert record["moved"]["complaint"] == 2 and record["moved"]["contact"] == 1 and record["moved"]["deadline_extension"] == 1
    assert db["complainant"].count_where("id = ?", [twin]) == 0
    assert api("team", "GET", f"/api/v1/complainants/{twin}").status_code == 404
    person = db["complainant"].get(kept)
    assert len(_complaints(db, kept)) == 3
    assert db["contact"].count_where("complainant_id = ?", [kept]) == 2
    assert person["decision_due_at"] == min(before[kept]["complainant"]["decision_due_at"], before[twin]["complainant"]["decision_due_at"])
    assert person["received_at"] == before[twin]["complainant"]["received_at"]  # the earliest
    assert set(json.loads(person["flags"])) == {"vulnerable", "organiser"}
    assert person["next_contact_due_at"] == before[twin]["complainant"]["next_contact_due_at"]
    listed = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/complainants?flag=organiser").json
    assert [c["id"] for c in listed["complainants"]] == [kept]
    audit = [r["action"] for r in db.query("SELECT action FROM audit_log WHERE table_name = 'complainant' AND row_id IN (?, ?)", [kept, twin])]
    assert "merge" in audit and "merged_into" in audit

    undone = api("team", "POST", f"/api/v1/merges/{record['id']}/undo")
    assert undone.status_code == 200 and undone.json["undone_at"]
    assert _state(db, kept, twin) == before
    assert api("lead", "GET", f"/api/v1/incidents/{incident['id']}/counts").json == counts_before
    assert api("team", "POST", f"/api/v1/merges/{record['id']}/undo").status_code == 409
    assert "unmerge" in [r["action"] for r in db.query("SELECT action FROM audit_log WHERE row_id = ? AND table_name = 'complainant'", [twin])]


def test_merge_refusals(api, db, incident):
    kept = incident["hebei_outlet_1"]
    assert api("team", "POST", f"/api/v1/complainants/{kept}/merge", json={"other_id": kept, "reason": "x"}).status_code == 422
    other = api("lead", "POST", "/api/v1/incidents", json={"title": "另一起", "cause": "c", "product": "p", "severity": "light"}).json["id"]
    stranger = _post(api, other, {"name": "某人", "phone": "13511112222", "province_code": "130000"}).json["ids"][0]
    response = api("team", "POST", f"/api/v1/complainants/{kept}/merge", json={"other_id": stranger, "reason": "x"})
    assert response.status_code == 422 and response.json["details"][0]["field"] == "other_id"
    assert api("team", "POST", f"/api/v1/complainants/{kept}/merge", json={"other_id": 999999, "reason": "x"}).status_code == 404
    assert api("team", "POST", "/api/v1/merges/999/undo").status_code == 404


# --- bulk -------------------------------------------------------------------------


def _people(n, seed=17):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            {
                "name": "投" + "诉人" + str(i),
                "phone": f"13{rng.randrange(3, 10)}{i:08d}",
                "id_number": _id(f"1301051960{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"[:17]),
                "province_code": "130000",
            }
        )
    return out


def test_a_bulk_import_of_10000_with_1000_repeats_links_the_repeats(api, db, incident):
    unique = _people(9000)
    # ids_number of _people repeat every 12*28*1000 > 9000: all distinct
    assert len({p["id_number"] for p in unique}) == 9000
    rng = random.Random(3)
    picks = rng.sample(range(9000), 1000)
    repeats = []
    for n, i in enumerate(picks):
        again = dict(unique[i], channel="hotline")
        if n % 2:
            again.pop("id_number")  # known by the phone only (written another way)
            again["phone"] = "+86 " + again["phone"]
        else:
            again["phone"] = "13000000000"  # known by the ID number only (a new phone)
        repeats.append(again)
    # repeats come both after their first arrival in the same batch and in a later one
    batch = unique[:8000] + repeats[:500] + unique[8000:] + repeats[500:]
    before = db["complainant"].count
    response = _post(api, incident["id"], batch)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["count"] == 10000 and body["new"] == 9000 and len(body["linked"]) == 1000
    assert db["complainant"].count == before + 9000
    first_ids = dict(zip(range(9000), [body["ids"][i] for i in range(8000)] + [body["ids"][i] for i in range(8500, 9500)]))
    for n, i in enumerate(picks):
        position = 8000 + n if n < 500 else 9000 + n
        assert body["ids"][position] == first_ids[i]
    from console.complaints import count_complaints

    assert count_complaints(db, incident["id"]) == 3 + 10000
    # a plain first arrival is kept on its person's row; each repeated person's first became a row with its repeat
    assert db.execute("SELECT count(*) FROM complaint WHERE incident_id = ?", [incident["id"]]).fetchone()[0] == 2000
    assert db.execute("SELECT count(*) FROM complaint WHERE channel = 'hotline' AND incident_id = ?", [incident["id"]]).fetchone()[0] == 1000
    # a second import of the same 1,000 links all of them again, creating no one
    again = _post(api, incident["id"], repeats)
    assert again.status_code == 201 and again.json["new"] == 0 and len(again.json["linked"]) == 1000


def test_csv_import_links_a_repeat_and_records_a_transfer(app, login, db, incident):
    client = login("team")
    csv_text = (
        "name,phone,id_number,province_code,channel,transfer_reference,reply_due_at\n"
        "张建国,13812345678,,130000,regulator_transfer,12378-CSV-1,2026-12-30 17:00\n"
        "新客户,13511113333,,130000,hotline,,\n"
    )
    preview = client.post(f"/incidents/{incident['id']}/import", data={"file": (io.BytesIO(csv_text.encode()), "p.csv")}, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.data[:2000]
    token = re.search(r"/import/([0-9a-f]{32})", preview.get_data(as_text=True)).group(1)
    assert client.post(f"/incidents/{incident['id']}/import/{token}").status_code == 302
    transfers = [dict(r) for r in db.query("SELECT * FROM complaint WHERE transfer_reference = '12378-CSV-1'")]
    assert len(transfers) == 1 and transfers[0]["complainant_id"] == incident["hebei_outlet_1"]


# --- search -----------------------------------------------------------------------


def _ids(api, incident_id, query, user="lead"):
    response = api(user, "GET", f"/api/v1/incidents/{incident_id}/complainants{query}")
    assert response.status_code == 200, response.json
    return sorted(c["id"] for c in response.json["complainants"])


def test_search_by_name_number_and_transfer_reference(api, db, incident):
    i = incident["id"]
    assert _ids(api, i, "?q=" + quote("张建国")) == [incident["hebei_outlet_1"]]  # each of its pieces, the name confirming
    assert _ids(api, i, "?q=" + quote("秀英")) == [incident["hebei_outlet_2"]]  # two characters: the name index
    assert _ids(api, i, "?q=" + quote("陈")) == [incident["guangdong"]]
    assert _ids(api, i, "?q=" + quote("+86 137 1234 5678")) == [incident["guangdong"]]  # the hash of the normal form
    reveals = db.execute("SELECT count(*) FROM audit_log WHERE action = 'reveal' AND row_id = ?", [incident["guangdong"]]).fetchone()[0]
    assert reveals == 1
    person = incident["hebei_outlet_2"]
    api(
        "team",
        "POST",
        f"/api/v1/complainants/{person}/complaints",
        json={"channel": "regulator_transfer", "transfer_reference": "JR-2026-118", "reply_due_at": to_iso(utcnow() + timedelta(days=9))},
    )
    assert _ids(api, i, "?q=JR-2026-118") == [person]
    assert _ids(api, i, "?q=JR-2026-118&province_code=440000") == []  # filters combine with it
    assert _ids(api, i, "?q=JR-2026-118", user="branch_outlet") == []  # and scope
    # the plans use the indexes
    found, args = complainants._name_search("张建国", i)  # the search's own SQL
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + found[0], args).fetchall())
    assert "VIRTUAL TABLE INDEX" in plan


def test_flag_filter_reads_its_index_and_follows_changes(api, db, incident):
    i = incident["id"]
    assert _ids(api, i, "?flag=journalist") == [incident["guangdong"]]
    api("lead", "PATCH", f"/api/v1/complainants/{incident['hebei_outlet_2']}", json={"flags": ["journalist", "lawyer"]})
    api("lead", "PATCH", f"/api/v1/complainants/{incident['guangdong']}", json={"flags": []})
    assert _ids(api, i, "?flag=journalist") == [incident["hebei_outlet_2"]]
    assert _ids(api, i, "?flag=lawyer&province_code=130000") == [incident["hebei_outlet_2"]]
    plan = " ".join(
        r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT complainant_id FROM complainant_flag WHERE incident_id = 1 AND flag = 'vip'").fetchall()
    )
    assert "PRIMARY KEY" in plan or "INDEX" in plan


def test_keyset_pages_match_offset_pages(api, db, incident):
    _post(api, incident["id"], _people(120, seed=5))
    path = f"/api/v1/incidents/{incident['id']}/complainants"
    by_page = []
    for page in range(1, 4):
        by_page += [c["id"] for c in api("lead", "GET", f"{path}?per_page=50&page={page}").json["complainants"]]
    by_cursor, cursor = [], None
    while True:
        body = api("lead", "GET", f"{path}?per_page=50" + (f"&cursor={cursor}" if cursor else "")).json
        by_cursor += [c["id"] for c in body["complainants"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert by_cursor == by_page and len(by_page) == 123 and by_page == sorted(by_page, reverse=True)


# --- intake -----------------------------------------------------------------------


def test_intake_attach_links_a_known_person(app, db, lead, ctx):
    from datetime import datetime, timezone

    from console import complainants, incidents, intake
    from console.access import SYSTEM
    from console.caller import Caller
    from console.schemas import ComplainantIn, ComplaintIn, IncidentIn

    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    incident_id = incidents.create_incident(
        db, IncidentIn(title="t", cause="billing", product="p", severity="medium", status="active"), lead, now, settings=app.config
    )
    db["incident"].update(incident_id, {"intake_dimension": "cause_code"})
    (known,) = complainants.create_complainants(
        db, incident_id, [ComplainantIn(name="赵六", phone="13844445555", province_code="130000")], Caller(SYSTEM, lead, now), app.config
    )
    item = ComplaintIn(
        source="hotline-95511",
        external_id="T-1",
        channel="12378 监管转办",
        product="p",
        cause_code="billing",
        province_code="130000",
        customer_name="赵六",
        customer_phone="138-4444-5555",
        received_at=now,
    )
    intake.add_complaints(db, [item], lead, now, app.config)
    intake.run_surge_rule(db, now + timedelta(minutes=1), app.config, lead)
    rows = _complaints(db, known)
    assert [r["channel"] for r in rows] == [None, "regulator_transfer"] and rows[1]["transfer_reference"] == "T-1"
    assert db["intake_complaint"].get(1)["complainant_id"] == known


# --- the page ---------------------------------------------------------------------


def test_the_complainant_page_shows_history_by_channel_and_merges(api, login, db, incident):
    kept = incident["hebei_outlet_1"]
    api(
        "team",
        "POST",
        f"/api/v1/complainants/{kept}/complaints",
        json={"channel": "regulator_transfer", "transfer_reference": "12378-PAGE", "reply_due_at": to_iso(utcnow() + timedelta(days=4)), "asked": "要求退保"},
    )
    api("team", "POST", f"/api/v1/complainants/{kept}/contacts", json={"channel": "phone", "said": "已致电", "promised": "周三前书面答复"})
    twin = _post(
        api, incident["id"], {"name": "张建国", "phone": "13500009999", "province_code": "130000", "city_code": "130100", "branch_code": "HB-SJZ-01"}
    ).json["ids"][0]
    client = login("team")
    page = client.get(f"/complainants/{kept}").get_data(as_text=True)
    assert 'id="history"' in page and "12378-PAGE" in page and "要求退保" in page and "周三前书面答复" in page
    assert page.index("周三前书面答复") < page.index("12378-PAGE")  # newest first
    assert "Regulator transfer (12378)" in page and f"/complainants/{twin}" in page  # a possible match offered
    only = client.get(f"/complainants/{kept}?channel=regulator_transfer").get_data(as_text=True)
    assert "12378-PAGE" in only and "已致电" not in only.split('id="history-table"')[1].split("</table>")[0]
    merged = client.post(f"/complainants/{kept}/merge", data={"other_id": str(twin), "reason": "同一人"})
    assert merged.status_code == 302
    assert db["complainant"].count_where("id = ?", [twin]) == 0
    merge_id = db.execute("SELECT id FROM complainant_merge").fetchone()[0]
    page = client.get(f"/complainants/{kept}").get_data(as_text=True)
    assert "Undo merge" in page
    assert client.post(f"/merges/{merge_id}/undo", data={"confirm": "yes"}).status_code == 302
    assert db["complainant"].count_where("id = ?", [twin]) == 1
    # a branch contact sees the history, but no merge buttons
    branch_page = login("branch_hebei").get(f"/complainants/{kept}").get_data(as_text=True)
    assert "12378-PAGE" in branch_page and "Merge into this complainant" not in branch_page
    # the page in Chinese
    zh = client.get(f"/complainants/{kept}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "监管转办" in zh or "12378" in zh


def test_a_changed_number_is_matched_and_found_by_its_new_hash(api, db, incident):
    person = incident["hebei_outlet_2"]
    assert api("lead", "PATCH", f"/api/v1/complainants/{person}", json={"phone": "13955556666", "id_number": _id("13010519700101333")}).status_code == 200
    assert _ids(api, incident["id"], "?q=13955556666") == [person]
    assert _ids(api, incident["id"], "?q=13912345678") == []
    again = _post(api, incident["id"], {"name": "李秀英", "phone": "139 5555 6666", "province_code": "130000"})
    assert again.json["ids"] == [person] and again.json["new"] == 0


def test_csv_preview_names_a_transfer_without_its_reference(login, incident):
    client = login("team")
    csv_text = "name,phone,province_code,channel\n张三,13511114444,130000,regulator_transfer\n"
    preview = client.post(f"/incidents/{incident['id']}/import", data={"file": (io.BytesIO(csv_text.encode()), "p.csv")}, content_type="multipart/form-data")
    assert preview.status_code == 422
    page = preview.get_data(as_text=True)
    assert "transfer_reference" in page and "reply_due_at" in page


def test_a_merged_complainants_id_is_not_given_again_so_the_undo_can_put_it_back(api, db, incident):
    """The fuzz run found it: merging away the newest complainant, then adding one,
    gave the new one the merged id, and the undo failed on the id (a 500)."""
    kept = incident["hebei_outlet_1"]
    newest = api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json={"name": "孙丽", "phone": "13512340001", "province_code": "130000", "city_code": "130100", "branch_code": "HB-SJZ-01"},
    ).json["ids"][0]
    merged = api("team", "POST", f"/api/v1/complainants/{kept}/merge", json={"other_id": newest, "reason": "同一人"})
    assert merged.status_code == 201, merged.json
    after = api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json={"name": "钱程", "phone": "13512340002", "province_code": "130000", "city_code": "130100", "branch_code": "HB-SJZ-01"},
    ).json["ids"][0]
    assert after > newest
    merge_id = db.execute("SELECT id FROM complainant_merge WHERE merged_id = ?", [newest]).fetchone()[0]
    undone = api("team", "POST", f"/api/v1/merges/{merge_id}/undo")
    assert undone.status_code == 200, undone.json
    assert db["complainant"].get(newest)["name"] == "孙丽"
