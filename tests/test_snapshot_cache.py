"""Issue 14: the socket's cached board snapshot is keyed by what a viewer may
see, not only by incident and room. Reproduces the red-team finding: legal
joined first, then the lead's socket snapshot showed legal's (empty) alert list."""

from console import alerts
from console.clock import utcnow
from console.db import write

from .test_live import Listener


def _raise_team_alerts(db, incident_id, n):
    with write(db):
        for i in range(n):
            alerts.raise_alert(
                db,
                key=f"cache-test-{i}",
                kind="test",
                level="warning",
                message=f"branch silent #{i}",
                now=utcnow(),
                audience=["lead", "team"],
                incident_id=incident_id,
                settings={"WEBHOOK_URL": None},  # no webhook: only the boards see these
            )


def test_legal_joining_first_does_not_hand_the_lead_its_snapshot(server, db, tokens, incident, api):
    _raise_team_alerts(db, incident["id"], 8)
    legal = Listener(server.url, tokens["legal"]).connect()
    lead = Listener(server.url, tokens["lead"]).connect()
    try:
        legal_snapshot = legal.join(incident["id"])["snapshot"]
        lead_snapshot = lead.join(incident["id"])["snapshot"]
        # same room: the old cache key (incident, room) would have matched
        assert legal_snapshot["room"] == lead_snapshot["room"]
        assert legal_snapshot["alerts"] == []
        assert len(lead_snapshot["alerts"]) == 8
        board = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/board").json
        assert [a["id"] for a in lead_snapshot["alerts"]] == [a["id"] for a in board["alerts"]]
        # and the other way round: legal joining again still gets legal's board
        assert legal.join(incident["id"])["snapshot"]["alerts"] == []
    finally:
        legal.close()
        lead.close()
