"""The board's chart figures (console/charts.py): counts per local day and
people on site per outlet, inside the viewer's scope."""

from datetime import timedelta

from console import charts
from console.access import SYSTEM, Viewer

from .conftest import NOW


def test_received_and_settled_per_day_inside_the_scope(app, db, incident):
    db.execute("UPDATE complainant SET received_at = ?, settled_at = NULL", ["2026-11-22T17:00:00Z"])  # 01:00 on the 23rd in Shanghai
    db.execute("UPDATE complainant SET settled_at = ? WHERE id = ?", ["2026-11-23T09:00:00Z", incident["guangdong"]])
    db.conn.commit()
    figures = charts.by_day(db, incident["id"], SYSTEM, NOW, app.config)
    assert figures["days"] == ["2026-11-23"]  # nothing before the first complainant's day
    assert figures["received"] == [3] and figures["settled"] == [1]
    hebei = charts.by_day(db, incident["id"], Viewer(1, "b", "branch", "province", "130000"), NOW, app.config)
    assert hebei["received"] == [2] and hebei["settled"] == [0]
    later = charts.by_day(db, incident["id"], SYSTEM, NOW + timedelta(days=30), app.config)
    assert len(later["days"]) == charts.DAYS and sum(later["received"]) == 0  # the last 14 days only


def test_people_on_site_per_outlet_over_the_last_24_hours(app, db, api, incident):
    for people in (4, 9):
        assert api("branch_outlet", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"people_on_site": people, "mood": "calm"}).status_code == 201
    assert (
        api(
            "branch_guangdong", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"branch_code": "GD-GZ-01", "people_on_site": 2, "mood": "calm"}
        ).status_code
        == 201
    )
    from console.clock import utcnow

    lines = charts.on_site(db, incident["id"], SYSTEM, utcnow())
    assert [(line["name"], [p[1] for p in line["points"]]) for line in lines] == [("广州天河网点", [2]), ("石家庄中山路网点", [4, 9])]
    assert [line["branch_code"] for line in charts.on_site(db, incident["id"], Viewer(1, "b", "branch", "branch", "HB-SJZ-01"), utcnow())] == ["HB-SJZ-01"]
    assert charts.on_site(db, incident["id"], SYSTEM, utcnow() + timedelta(hours=25)) == []
