"""The early-warning forecast: the model's figures, the incident's forecast over
the API for each role, its refit on a new arrival batch, and the cause forecast."""

from datetime import datetime, timedelta, timezone

import numpy as np

from console import forecast
from console.clock import to_iso


def test_steady_arrivals_are_forecast_at_their_rate_with_an_interval_around_it():
    rng = np.random.default_rng(5)
    counts = list(rng.poisson(30, size=5 * 8))  # 5 days of 3-hour bins at 10 an hour
    result = forecast.forecast_counts(counts)
    assert result["method"] == "ets"
    by_hours = {h["hours"]: h for h in result["horizons"]}
    assert set(by_hours) == {24, 72, 168}
    for hours, h in by_hours.items():
        rate_total = 10 * hours
        assert h["low"] <= h["expected"] <= h["high"]
        assert 0.7 * rate_total <= h["expected"] <= 1.3 * rate_total, (hours, h)
        assert h["low"] < rate_total < h["high"]
    assert by_hours[24]["high"] - by_hours[24]["low"] < by_hours[168]["high"] - by_hours[168]["low"]


def test_a_surge_is_forecast_above_the_naive_repeat_and_a_fade_below_it():
    hours = np.arange(6 * 8)
    surge = [int(v) for v in 2 * np.exp(hours / 12)]
    fade = [int(v) for v in 400 * np.exp(-hours / 12)]
    up = forecast.forecast_counts(surge)["horizons"][0]["expected"]
    down = forecast.forecast_counts(fade)["horizons"][0]["expected"]
    assert up > forecast.naive_forecast(surge)[24]
    assert down < forecast.naive_forecast(fade)[24]


def test_too_little_history_uses_the_rate_so_far():
    result = forecast.forecast_counts([3, 4])
    assert result["method"] == "poisson"
    assert 20 <= result["horizons"][0]["expected"] <= 36  # 3.5 per 3 h: 28 a day


def test_demand_shares_count_each_kind_a_person_names():
    shares = forecast.demand_shares(["要求全额退还本金，利息按4.5%算", "要求公开道歉，不然找电视台曝光", "希望尽快处理", ""])
    assert shares["people"] == 3
    by_kind = {s["kind"]: s["people"] for s in shares["shares"]}
    assert by_kind == {"principal": 1, "interest": 1, "apology": 1, "publicity": 1, "other": 1}


_phones = iter(range(10**4))  # a phone a person: the same phone twice is the same person (console/identity.py)


def _add_batch(api, incident_id, n, received_at, demands="要求退还本金", branch="HB-SJZ-01"):
    people = [
        {
            "name": f"客户{i}",
            "phone": f"1380000{next(_phones):04d}",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": branch,
            "principal": "10000",
            "demands": demands,
            "received_at": to_iso(received_at),
        }
        for i in range(n)
    ]
    response = api("lead", "POST", f"/api/v1/incidents/{incident_id}/complainants", json=people)
    assert response.status_code == 201, response.json


def test_incident_forecast_refits_when_a_batch_arrives_and_each_role_sees_its_share(api, incident):
    forecast.clear_cache()
    url = f"/api/v1/incidents/{incident['id']}/forecast"
    now = datetime.now(timezone.utc)
    for hours_ago in range(30, 0, -3):
        _add_batch(api, incident["id"], 5, now - timedelta(hours=hours_ago, minutes=20), branch="HB-SJZ-02")
    before = api("lead", "GET", url)
    assert before.status_code == 200, before.json
    body = before.json
    assert body["complainants"] == 53
    assert [h["hours"] for h in body["horizons"]] == [24, 72, 168]
    assert body["exposure"][0]["expected_fen"] > 0 and body["exposure"][0]["mean_claim_fen"] > 0
    assert body["demands"]["people"] == 50 and body["demands"]["shares"][0]["kind"] == "principal"
    assert sum(a["count"] for a in body["actual"]) == 53
    # a batch of 200 arrives now: the forecast is refitted and goes up
    _add_batch(api, incident["id"], 200, now - timedelta(minutes=30))
    after = api("lead", "GET", url).json
    assert after["complainants"] == 253
    assert after["horizons"][0]["expected"] > body["horizons"][0]["expected"]
    assert after["ahead"][0]["high"] > body["ahead"][0]["high"]
    # a branch contact's forecast is of their own scope: the outlet has the batch and one more
    outlet = api("branch_outlet", "GET", url).json
    assert outlet["complainants"] == 201
    guangdong = api("branch_guangdong", "GET", url).json
    assert guangdong["complainants"] == 1
    # executives: amounts only over enough people
    executive = api("executive", "GET", url).json
    assert executive["exposure"][0]["expected_fen"] is not None and executive.get("amounts_suppressed_below") is None


def test_executives_get_no_exposure_over_too_few_people(app, api, incident):
    forecast.clear_cache()
    app.config["MIN_CELL_PEOPLE"] = 5  # the fixture's incident has 3 people
    url = f"/api/v1/incidents/{incident['id']}/forecast"
    lead = api("lead", "GET", url).json
    assert lead["exposure"][0]["mean_claim_fen"] > 0  # the lead sees amounts whatever the count
    executive = api("executive", "GET", url).json
    assert executive["amounts_suppressed_below"] == 5
    assert all(e["expected_fen"] is None and e["mean_claim_fen"] is None for e in executive["exposure"])
    assert executive["horizons"] == lead["horizons"]  # counts are never suppressed


def test_cause_forecast_for_complaints_under_monitoring(api, db, incident):
    forecast.clear_cache()
    now = datetime.now(timezone.utc)
    with db.atomic():
        for i in range(40):
            db["intake_complaint"].insert(
                {
                    "source": "test",
                    "external_id": f"c{i}",
                    "channel": "hotline",
                    "product": "分红险",
                    "cause_code": "misselling",
                    "province_code": "130000",
                    "customer_name": "某",
                    "customer_phone": "13800000000",
                    "text": "要求退保退本金",
                    "received_at": to_iso(now - timedelta(hours=i)),
                    "created_at": to_iso(now),
                }
            )
    found = api("team", "GET", "/api/v1/forecast/cause?cause_code=misselling")
    assert found.status_code == 200, found.json
    assert found.json["demands"]["people"] == 40
    assert sum(a["count"] for a in found.json["actual"]) == 40
    assert api("team", "GET", "/api/v1/forecast/cause?cause_code=nothing").status_code == 404
    assert api("team", "GET", "/api/v1/forecast/cause").status_code == 422
    assert api("executive", "GET", "/api/v1/forecast/cause?cause_code=misselling").status_code == 403


def test_the_monitors_page_shows_the_early_warning_by_cause(login, db, accounts):
    forecast.clear_cache()
    now = datetime.now(timezone.utc)
    with db.atomic():
        for i in range(30):
            db["intake_complaint"].insert(
                {
                    "source": "test",
                    "external_id": f"m{i}",
                    "channel": "hotline",
                    "product": "分红险",
                    "cause_code": "billing_error",
                    "province_code": "130000",
                    "customer_name": "某",
                    "customer_phone": "13800000000",
                    "text": "要求退费",
                    "received_at": to_iso(now - timedelta(hours=2 * i)),
                    "created_at": to_iso(now),
                }
            )
    page = login("team").get("/monitors").get_data(as_text=True)
    assert 'id="cause-forecasts"' in page and "billing_error" in page
    outlook = forecast.cause_forecast(db, "billing_error", now)
    assert f"{outlook['horizons'][0]['low']}–{outlook['horizons'][0]['high']}" in page


def test_two_databases_with_the_same_ids_and_counts_never_share_a_cached_forecast(api, db, incident, tmp_path):
    """A drill runs on its own database in the same process as the real one, with
    the same incident ids: the cache is keyed by the database file too."""
    import sqlite3

    from console.db import connect

    forecast.clear_cache()
    now = datetime.now(timezone.utc)
    _add_batch(api, incident["id"], 30, now - timedelta(hours=40))
    real = forecast.incident_forecast(db, incident["id"], now)
    copy = sqlite3.connect(tmp_path / "drill.db")
    db.conn.backup(copy)  # the same rows, ids and counts (WAL included)
    copy.close()
    drill = connect(tmp_path / "drill.db")
    try:
        # same ids and counts, but in the drill every one of them arrived in the last hour
        with drill.conn:
            drill.conn.execute("UPDATE complainant SET received_at = ? WHERE incident_id = ?", [to_iso(now - timedelta(minutes=30)), incident["id"]])
        moved = forecast.incident_forecast(drill, incident["id"], now)
    finally:
        drill.close()
    assert [a["count"] for a in moved["actual"]][-1] >= 30
    assert moved["actual"] != real["actual"]
