"""Issue 14, smaller items: out-of-scope complainant ids in a group's
representative_ids; reads of group terms and tiers are audited like other
settlement reads. (The task list's trigger_ref: tests/test_free_text.py.)"""

from .conftest import STANDARD_TERMS


def test_representative_ids_only_of_complainants_the_viewer_may_read(api, incident):
    g1 = incident["groups"][0]
    # a group with a Hebei and a Guangdong representative (moved into the group for the test)
    assert api("lead", "PATCH", f"/api/v1/complainants/{incident['guangdong']}", json={"group_id": g1}).status_code == 200
    reps = sorted([incident["hebei_outlet_1"], incident["guangdong"]])
    assert api("lead", "PATCH", f"/api/v1/groups/{g1}", json={"representative_ids": reps}).status_code == 200

    def seen(username):
        listed = {g["id"]: g for g in api(username, "GET", f"/api/v1/incidents/{incident['id']}/groups").json["groups"]}[g1]
        one = api(username, "GET", f"/api/v1/groups/{g1}").json
        assert listed["representative_ids"] == one["representative_ids"]
        return one["representative_ids"]

    assert seen("lead") == reps and seen("team") == reps and seen("legal") == reps
    assert seen("branch_hebei") == [incident["hebei_outlet_1"]]
    assert seen("branch_outlet") == [incident["hebei_outlet_1"]]  # HB-SJZ-01
    assert seen("branch_guangdong") == [incident["guangdong"]]
    assert seen("executive") == []


def _term_reads(db, group_id):
    return [
        r["username"]
        for r in db.query(
            "SELECT username FROM audit_log WHERE table_name = 'complainant_group' AND row_id = ? AND action = 'view_terms' ORDER BY id", [group_id]
        )
    ]


def test_reads_of_group_terms_and_tiers_are_audited(api, db, incident, login):
    g1 = incident["groups"][0]
    assert api("legal", "PUT", f"/api/v1/groups/{g1}/terms", json=STANDARD_TERMS).status_code == 200
    assert _term_reads(db, g1) == []  # writing them is audited as a change, not a read
    response = api("legal", "GET", f"/api/v1/groups/{g1}/terms")
    assert response.status_code == 200 and response.json["terms"]["principal_pct"] == 100
    assert login("lead").get(f"/groups/{g1}/terms").status_code == 200
    assert _term_reads(db, g1) == ["legal", "lead"]
    # refused reads leave no entry
    assert api("team", "GET", f"/api/v1/groups/{g1}/terms").status_code == 403
    assert _term_reads(db, g1) == ["legal", "lead"]
