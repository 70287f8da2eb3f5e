"""Settlements: group terms, caps and overrides, early-acceptance tiers at their
edges, the consistency guard, confidentiality agreements, and races."""

import base64
import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from console import settlements
from console.clock import utcnow

from .conftest import row_counts

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TERMS = {"principal_pct": 100, "interest_pct": 50, "pays_expenses": True, "text": "退还全部本金，利息按诉求的一半补偿，交通费凭票据报销。"}


def negotiating(api, complainant_id, interest=None):
    """Walk a complainant to 'negotiating' (the step before an offer)."""
    if interest is not None:
        assert api("team", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"interest_claimed": interest}).status_code == 200
    for status in ("contacted", "negotiating"):
        response = api("team", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": status})
        assert response.status_code == 200, response.json


@pytest.fixture
def terms(api, incident):
    g1, g2 = incident["groups"]
    for group in (g1, g2):
        assert api("legal", "PUT", f"/api/v1/groups/{group}/terms", json=TERMS).status_code == 200
    return incident


def offer(api, complainant_id, user="legal", **body):
    return api(user, "POST", f"/api/v1/complainants/{complainant_id}/offers", json=body)


def agreement_body(**changes):
    body = {
        "parties": "本公司；张建国",
        "signed_on": "2026-11-20",
        "liquidated_damages": 13000,
        "estimated_loss": 10000,
        "clause_version": "CA-2026-01",
        "witness_reference": "录音 2026-11-20 14:05 接待室",
        "document_name": "agreement.pdf",
        "document_base64": base64.b64encode(PDF).decode(),
    }
    body.update(changes)
    return body


# --- terms and offers -------------------------------------------------------


def test_an_offer_defaults_to_the_groups_standard_terms(api, terms):
    person = terms["hebei_outlet_1"]  # principal 50,000
    negotiating(api, person, interest=3000)
    made = offer(api, person)
    assert made.status_code == 201, made.json
    assert made.json["principal"] == "50000" and made.json["interest"] == "1500"  # 100% and 50%
    assert made.json["total"] == "51500" and made.json["differs_from_terms"] is False
    assert api("legal", "GET", f"/api/v1/groups/{terms['groups'][0]}/terms").json["terms"]["pays_expenses"] is True
    assert api("team", "GET", f"/api/v1/complainants/{person}").json["status"] == "offer_made"


def test_no_offer_before_the_group_has_standard_terms(api, db, incident):
    person = incident["hebei_outlet_1"]
    negotiating(api, person)
    before = row_counts(db)
    refused = offer(api, person)
    assert refused.status_code == 409 and "standard terms" in refused.json["error"]
    assert row_counts(db) == before


def test_expenses_need_evidence(api, db, terms):
    person = terms["hebei_outlet_1"]
    negotiating(api, person, interest=3000)
    before = row_counts(db)
    refused = offer(api, person, expenses=300)
    assert refused.status_code == 422 and refused.json["details"][0]["field"] == "expenses_evidence"
    assert row_counts(db) == before
    made = offer(api, person, expenses=300, expenses_evidence="高铁票两张，已复印存档")
    assert made.status_code == 201 and made.json["expenses"] == "300" and made.json["differs_from_terms"] is False


@pytest.mark.parametrize(
    "body, why",
    [
        ({"principal": 50000, "interest": 3000.01}, "above principal + interest"),  # one fen over the cap
        ({"lawyer_fees": 1}, "lawyer"),
        ({"indirect_loss": 1}, "indirect loss"),
    ],
)
def test_beyond_the_cap_needs_the_leads_override_with_a_reason(api, db, terms, body, why):
    person = terms["hebei_outlet_1"]
    negotiating(api, person, interest=3000)
    before = row_counts(db)
    refused = offer(api, person, user="lead", **body)
    assert refused.status_code == 422 and why in refused.json["error"]
    by_legal = offer(api, person, user="legal", override_reason="董事会特批", **body)
    assert by_legal.status_code == 422 and "Only the crisis lead" in by_legal.json["error"]
    assert row_counts(db) == before
    made = offer(api, person, user="lead", override_reason="客户为失独老人，董事会特批", **body)
    assert made.status_code == 201, made.json
    assert made.json["override_reason"] == "客户为失独老人，董事会特批" and made.json["differs_from_terms"] is True


def test_at_the_cap_exactly_needs_no_override(api, terms):
    person = terms["hebei_outlet_1"]
    negotiating(api, person, interest=3000)
    made = offer(api, person, principal=50000, interest=3000)
    assert made.status_code == 201 and made.json["override_reason"] is None
    assert made.json["total"] == made.json["cap"] == "53000"


def test_a_new_offer_supersedes_the_open_one_and_a_declined_offer_goes_back_to_negotiating(api, terms):
    person = terms["hebei_outlet_1"]
    negotiating(api, person)
    first = offer(api, person).json
    second = offer(api, person, principal=45000).json
    assert api("legal", "GET", f"/api/v1/complainants/{person}/settlement").json["offers"][1]["status"] == "superseded"
    assert api("legal", "POST", f"/api/v1/offers/{first['id']}/accept").status_code == 409
    assert api("legal", "POST", f"/api/v1/offers/{second['id']}/decline").status_code == 200
    assert api("team", "GET", f"/api/v1/complainants/{person}").json["status"] == "negotiating"


# --- tiers ----------------------------------------------------------------------

SHANGHAI = timezone(timedelta(hours=8))
TIERS = {
    "tiers": [
        {"name": "第一档", "starts_on": "2026-11-20", "ends_on": "2026-11-30", "award": 2000},
        {"name": "第二档", "starts_on": "2026-12-01", "ends_on": "2026-12-15", "award": 800},
    ]
}


@pytest.mark.parametrize(
    "moment, tier, award",
    [
        (datetime(2026, 11, 20, 0, 0, 0, tzinfo=SHANGHAI), "第一档", 200000),  # first second of the first window
        (datetime(2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI), "第一档", 200000),  # last second of its last day
        (datetime(2026, 12, 1, 0, 0, 0, tzinfo=SHANGHAI), "第二档", 80000),
        (datetime(2026, 12, 15, 23, 59, 59, tzinfo=SHANGHAI), "第二档", 80000),
        (datetime(2026, 12, 16, 0, 0, 0, tzinfo=SHANGHAI), None, 0),  # the last get none
        (datetime(2026, 11, 19, 23, 59, 59, tzinfo=SHANGHAI), None, 0),  # before the plan opened
    ],
)
def test_the_tier_award_follows_the_acceptance_date_in_the_consoles_zone(app, db, api, terms, moment, tier, award):
    person = terms["hebei_outlet_1"]
    assert api("legal", "PUT", f"/api/v1/groups/{terms['groups'][0]}/tiers", json=TIERS).status_code == 200
    negotiating(api, person)
    offer_id = offer(api, person).json["id"]
    settlement_id = accept_at(app, db, offer_id, moment)
    row = db["settlement"].get(settlement_id)
    assert row["tier_award_fen"] == award
    assert row["accepted_on"] == moment.date().isoformat()
    assert (db["settlement_tier"].get(row["tier_id"])["name"] if row["tier_id"] else None) == tier
    assert row["total_fen"] == 5000000 + award


def accept_at(app, db, offer_id, moment):
    """Accept through the domain function at a chosen moment (the API uses the clock)."""
    from console.access import SYSTEM
    from console.audit import Actor
    from console.caller import Caller

    with app.test_request_context(headers={"Accept-Language": "en"}):
        return settlements.accept_offer(db, offer_id, Caller(SYSTEM, Actor(None, "lead", "test"), moment.astimezone(timezone.utc)), app.config)


def test_overlapping_tiers_are_refused_and_used_tiers_are_fixed(app, db, api, terms):
    group = terms["groups"][0]
    overlapping = {"tiers": [TIERS["tiers"][0], {**TIERS["tiers"][1], "starts_on": "2026-11-30"}]}
    refused = api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json=overlapping)
    assert refused.status_code == 422 and "overlaps" in refused.json["details"][0]["message"]
    backwards = {"tiers": [{**TIERS["tiers"][0], "ends_on": "2026-11-19"}]}
    assert api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json=backwards).status_code == 422
    assert db["settlement_tier"].count == 0
    assert api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json=TIERS).status_code == 200
    person = terms["hebei_outlet_1"]
    negotiating(api, person)
    offer_id = offer(api, person).json["id"]
    accept_at(app, db, offer_id, datetime(2026, 11, 25, 3, tzinfo=timezone.utc))
    assert api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json={"tiers": []}).status_code == 409
    assert db["settlement_tier"].count == 2


def test_the_board_counts_acceptances_per_tier_and_the_days_left_without_an_amount(app, db, api, terms):
    from console import board

    group = terms["groups"][0]
    assert api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json=TIERS).status_code == 200
    person = terms["hebei_outlet_1"]
    negotiating(api, person)
    accepted_at = datetime(2026, 11, 28, 10, tzinfo=SHANGHAI)
    accept_at(app, db, offer(api, person).json["id"], accepted_at)
    from console.access import Viewer

    for viewer in (Viewer(1, "x", "executive"), Viewer(2, "y", "branch", "province", "130000"), Viewer(3, "z", "team")):
        with app.test_request_context():
            snap = board.snapshot(db, terms["id"], viewer, accepted_at, app.config)
        (panel,) = snap["tiers"]
        assert [t["accepted"] for t in panel["tiers"]] == [1, 0]
        assert panel["current"] == {"id": panel["tiers"][0]["id"], "name": "第一档", "days_left": 3}  # 28, 29, 30
        assert "award" not in str(snap) and "2000" not in str(snap["tiers"])
    with app.test_request_context():
        outside = board.snapshot(db, terms["id"], Viewer(4, "g", "branch", "province", "440000"), accepted_at, app.config)
    assert [t["accepted"] for t in outside["tiers"][0]["tiers"]] == [0, 0]  # Guangdong sees its own scope


# --- the consistency guard, finalising, agreements ------------------------------------


def accepted(api, person, **offer_body):
    negotiating(api, person, interest=3000)
    offer_id = offer(api, person, **offer_body).json["id"]
    response = api("legal", "POST", f"/api/v1/offers/{offer_id}/accept")
    assert response.status_code == 201, response.json
    return response.json


def test_standard_terms_finalise_without_an_agreement_and_schedule_the_follow_up_call(app, api, db, terms):
    person = terms["hebei_outlet_1"]
    settlement = accepted(api, person)
    assert settlement["needs_agreement"] is False
    done = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/finalise")
    assert done.status_code == 200 and done.json["status"] == "final"
    row = db["complainant"].get(person)
    assert row["status"] == "settled" and row["settled_at"] == done.json["finalised_at"]
    finalised = datetime.fromisoformat(done.json["finalised_at"])
    assert datetime.fromisoformat(row["next_contact_due_at"]) == finalised + timedelta(days=app.config["SETTLEMENT_FOLLOWUP_DAYS"])
    again = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/finalise")
    assert again.status_code == 409


def test_terms_that_differ_from_the_group_need_a_confidentiality_agreement(app, api, db, terms):
    person = terms["hebei_outlet_1"]
    settlement = accepted(api, person, principal=48000)  # below the group's 100%: still a different line
    assert settlement["differs_from_terms"] is True and settlement["needs_agreement"] is True
    before = row_counts(db)
    refused = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/finalise")
    assert refused.status_code == 422 and "confidentiality agreement" in refused.json["error"]
    assert row_counts(db) == before and db["complainant"].get(person)["status"] == "accepted"
    kept = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/agreement", json=agreement_body())
    assert kept.status_code == 201, kept.json
    agreement = kept.json["agreement"]
    assert agreement["document_sha256"] == __import__("hashlib").sha256(PDF).hexdigest()
    stored = db["confidentiality_agreement"].get(agreement["id"])["document_path"]
    assert open(stored, "rb").read() == PDF
    assert api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/finalise").status_code == 200
    assert db["complainant"].get(person)["status"] == "settled"


def test_a_complainant_cannot_be_settled_by_a_status_change(api, db, terms):
    person = terms["hebei_outlet_1"]
    negotiating(api, person)
    for status in ("offer_made", "accepted"):
        assert api("team", "PATCH", f"/api/v1/complainants/{person}", json={"status": status}).status_code == 200
    refused = api("lead", "PATCH", f"/api/v1/complainants/{person}", json={"status": "settled"})
    assert refused.status_code == 422 and "settlement record" in refused.json["error"]
    assert db["complainant"].get(person)["status"] == "accepted"


def test_a_withdrawn_acceptance_reopens_talks_and_allows_a_new_settlement(api, db, terms):
    person = terms["hebei_outlet_1"]
    first = accepted(api, person)
    blocked = api("team", "PATCH", f"/api/v1/complainants/{person}", json={"status": "negotiating"})
    assert blocked.status_code == 422 and "withdraws it" in blocked.json["error"]
    assert api("legal", "POST", f"/api/v1/settlements/{first['id']}/withdraw").json["status"] == "withdrawn"
    assert db["complainant"].get(person)["status"] == "negotiating"
    offer_id = offer(api, person).json["id"]
    second = api("legal", "POST", f"/api/v1/offers/{offer_id}/accept")
    assert second.status_code == 201 and second.json["id"] != first["id"]


@pytest.mark.parametrize(
    "liquidated, warned",
    [(13000, False), (13000.01, True), (0, False)],  # estimated loss 10,000: 30% above is 13,000
)
def test_liquidated_damages_more_than_30_percent_above_the_estimated_loss_are_warned(api, terms, liquidated, warned):
    settlement = accepted(api, terms["hebei_outlet_1"], principal=48000)
    kept = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/agreement", json=agreement_body(liquidated_damages=liquidated))
    assert kept.status_code == 201
    assert kept.json["agreement"]["damages_warning"] is warned


@pytest.mark.parametrize(
    "changes, status",
    [
        ({"document_base64": base64.b64encode(b"MZ\x90\x00 not a pdf").decode()}, 415),
        ({"document_name": "agreement.exe"}, 415),
        ({"document_base64": "***not base64***"}, 422),
        ({"signed_on": (date.today() + timedelta(days=3)).isoformat()}, 422),
        ({"liquidated_damages": -1}, 422),
        ({"parties": "   "}, 422),
    ],
)
def test_a_bad_agreement_is_refused_and_keeps_nothing(api, db, terms, app, changes, status):
    import os

    settlement = accepted(api, terms["hebei_outlet_1"], principal=48000)
    before = row_counts(db)
    refused = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/agreement", json=agreement_body(**changes))
    assert refused.status_code == status, refused.json
    assert refused.json["error"]
    assert row_counts(db) == before
    assert not os.path.exists(os.path.join(app.config["DOCUMENT_FOLDER"], "agreements"))


def test_a_breach_is_recorded_against_the_agreement(api, terms):
    settlement = accepted(api, terms["hebei_outlet_1"], principal=48000)
    agreement = api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/agreement", json=agreement_body()).json["agreement"]
    breach = api(
        "legal",
        "POST",
        f"/api/v1/agreements/{agreement['id']}/breaches",
        json={"occurred_on": "2026-11-22", "evidence": "客户在微信群公开和解金额（截图已存档）", "damages_claimed": 13000},
    )
    assert breach.status_code == 201 and breach.json["damages_claimed"] == "13000"  # yuan, as everywhere else
    read = api("lead", "GET", f"/api/v1/settlements/{settlement['id']}").json
    assert read["agreement"]["breaches"][0]["damages_claimed"] == "13000"


def test_every_read_of_a_settlement_is_logged(api, db, terms):
    settlement = accepted(api, terms["hebei_outlet_1"])
    api("lead", "GET", f"/api/v1/settlements/{settlement['id']}")
    api("legal", "GET", f"/api/v1/complainants/{terms['hebei_outlet_1']}/settlement")
    api("legal", "GET", f"/api/v1/incidents/{terms['id']}/settlements")
    views = [(r["username"], r["action"]) for r in db.query("SELECT username, action FROM audit_log WHERE action LIKE 'view%' ORDER BY id")]
    assert views == [("lead", "view"), ("legal", "view_settlement"), ("legal", "view_settlements_register")]


# --- races -------------------------------------------------------------------------


def race(calls):
    """Run the calls at the same moment; their responses in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_acceptances_racing_on_the_last_day_of_a_tier_one_wins(http_api, db, terms):
    """The tier closes today: two people record the same complainant's acceptance
    at once. One settlement, with today's award; the other gets a clear 409."""
    today = utcnow().astimezone(timezone(timedelta(hours=8))).date()
    window = {"tiers": [{"name": "最后一天", "starts_on": (today - timedelta(days=5)).isoformat(), "ends_on": today.isoformat(), "award": 1500}]}
    assert http_api("legal", "PUT", f"/api/v1/groups/{terms['groups'][0]}/tiers", json=window).status_code == 200
    person, other = terms["hebei_outlet_1"], terms["hebei_outlet_2"]
    for who in (person, other):
        negotiating(http_api, who)
    offer_id = http_api("legal", "POST", f"/api/v1/complainants/{person}/offers", json={}).json["id"]
    other_offer = http_api("legal", "POST", f"/api/v1/complainants/{other}/offers", json={}).json["id"]
    results = race(
        [
            lambda: http_api("legal", "POST", f"/api/v1/offers/{offer_id}/accept"),
            lambda: http_api("lead", "POST", f"/api/v1/offers/{offer_id}/accept"),
            lambda: http_api("legal", "POST", f"/api/v1/offers/{other_offer}/accept"),  # someone else, same last day
        ]
    )
    mine = sorted(r.status_code for r in results[:2])
    assert mine == [201, 409], [r.json for r in results]
    loser = next(r for r in results[:2] if r.status_code == 409)
    assert "accept" in loser.json["error"]
    assert results[2].status_code == 201
    rows = list(db.query("SELECT complainant_id, tier_award_fen FROM settlement ORDER BY complainant_id"))
    assert [(r["complainant_id"], r["tier_award_fen"]) for r in rows] == [(person, 150000), (other, 150000)]


def test_the_same_complainant_finalised_twice_at_once_settles_once(http_api, db, terms):
    person = terms["hebei_outlet_1"]
    negotiating(http_api, person)
    offer_id = http_api("legal", "POST", f"/api/v1/complainants/{person}/offers", json={}).json["id"]
    settlement_id = http_api("legal", "POST", f"/api/v1/offers/{offer_id}/accept").json["id"]
    results = race([lambda: http_api(u, "POST", f"/api/v1/settlements/{settlement_id}/finalise") for u in ("lead", "legal", "lead")])
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    assert all("final" in r.json["error"] for r in results if r.status_code == 409)
    assert db.execute("SELECT count(*) FROM audit_log WHERE table_name = 'settlement' AND action = 'finalise'").fetchone()[0] == 1
    assert (
        db["complainant"].get(person)["version"]
        == db.execute("SELECT count(*) + 1 FROM audit_log WHERE table_name = 'complainant' AND row_id = ? AND action = 'update'", [person]).fetchone()[0]
    )


# --- the HTML pages ---------------------------------------------------------------


def test_terms_and_tiers_forms_save_and_refuse_with_the_reason(login, db, incident):
    legal = login("legal")
    group = incident["groups"][0]
    saved = legal.post(f"/groups/{group}/terms", data={"principal_pct": "100", "interest_pct": "40", "pays_expenses": "1", "text": "退本金，利息四成"})
    assert saved.status_code == 302
    assert dict(db["group_terms"].get(group))["interest_pct"] == 40
    bad = legal.post(
        f"/groups/{group}/tiers",
        data={
            "name_0": "一",
            "starts_on_0": "2026-11-20",
            "ends_on_0": "2026-11-25",
            "award_0": "100",
            "name_1": "二",
            "starts_on_1": "2026-11-25",
            "ends_on_1": "2026-11-30",
            "award_1": "50",
        },
    )
    assert bad.status_code == 422 and "overlaps" in bad.data.decode()
    assert db["settlement_tier"].count == 0
    good = legal.post(f"/groups/{group}/tiers", data={"name_0": "一", "starts_on_0": "2026-11-20", "ends_on_0": "2026-11-25", "award_0": "¥1,000"})
    assert good.status_code == 302 and db["settlement_tier"].count == 1
    page = legal.get(f"/groups/{group}/terms").data.decode()
    assert "退本金，利息四成" in page and "2026-11-25" in page


def test_the_offer_form_shows_why_it_was_refused_and_writes_nothing(api, login, db, terms):
    person = terms["hebei_outlet_1"]
    negotiating(api, person)
    before = row_counts(db)
    refused = login("legal").post(f"/complainants/{person}/offers", data={"lawyer_fees": "500"})
    assert refused.status_code == 422
    assert "needs the crisis lead&#39;s override" in refused.data.decode()
    after = row_counts(db)
    assert after.pop("audit_log") == before.pop("audit_log") + 1  # the page shown again is a logged view
    assert after == before
    made = login("lead").post(f"/complainants/{person}/offers", data={"lawyer_fees": "500", "override_reason": "法院调解书确认"})
    assert made.status_code == 302 and db["settlement_offer"].count == 1


def test_the_agreement_form_keeps_the_upload_and_refuses_a_wrong_file(api, login, db, terms):
    import io

    settlement = accepted(api, terms["hebei_outlet_1"], principal=48000)
    legal = login("legal")
    fields = {
        "parties": "本公司；张建国",
        "signed_on": "2026-11-20",
        "liquidated_damages": "13000",
        "estimated_loss": "10000",
        "clause_version": "CA-2026-01",
        "witness_reference": "录音 A-17",
    }
    wrong = legal.post(
        f"/settlements/{settlement['id']}/agreement", data={**fields, "document": (io.BytesIO(b"GIF89a..."), "scan.pdf")}, content_type="multipart/form-data"
    )
    assert wrong.status_code == 415 and db["confidentiality_agreement"].count == 0
    kept = legal.post(
        f"/settlements/{settlement['id']}/agreement", data={**fields, "document": (io.BytesIO(PDF), "协议.pdf")}, content_type="multipart/form-data"
    )
    assert kept.status_code == 302 and db["confidentiality_agreement"].count == 1
    agreement_id = db["confidentiality_agreement"].rows.__next__()["id"]
    download = legal.get(f"/agreements/{agreement_id}/document")
    assert download.status_code == 200 and download.data == PDF
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'view_document'").fetchone()[0] == 1


def test_the_register_downloads_for_legal(api, login, terms):
    import io

    from openpyxl import load_workbook

    settlement = accepted(api, terms["hebei_outlet_1"])
    api("legal", "POST", f"/api/v1/settlements/{settlement['id']}/finalise")
    legal = login("legal")
    csv_text = legal.get(f"/incidents/{terms['id']}/settlements.csv").data.decode("utf-8-sig")
    header, row = csv_text.splitlines()[:2]
    assert header.split(",")[:3] == ["settlement_id", "complainant_id", "name"]
    assert "张建国" in row and ",final," in row and "51500" in row
    sheet = load_workbook(io.BytesIO(legal.get(f"/incidents/{terms['id']}/settlements.xlsx").data)).active
    assert [c.value for c in sheet[1]][:3] == ["settlement_id", "complainant_id", "name"]
    assert sheet.max_row == 2
    page = legal.get(f"/incidents/{terms['id']}/settlements").data.decode()
    assert "张建国" in page and "51,500.00" in page


def test_the_settlement_page_lists_who_read_the_record(api, login, terms):
    settlement = accepted(api, terms["hebei_outlet_1"])
    api("lead", "GET", f"/api/v1/settlements/{settlement['id']}")
    page = login("legal").get(f"/complainants/{terms['hebei_outlet_1']}/settlement").data.decode()
    views = page[page.index('id="views"') :]
    assert views.count("<li>") == 2 and "lead" in views and "legal" in views  # the lead's read, and this one
