"""Issue 14: the complainant search cannot rebuild a masked number. A branch
contact rebuilt 138****9922 digit by digit through ?q= (phone LIKE %q%) with
no audit entry; numbers now match whole (or by the last four digits the mask
shows anyway), and a whole-number match is logged like a reveal."""

import pytest

from console.complainants import search_kind

MASKED_TARGET = "13812345678"  # hebei_outlet_1, shown to the branch contact as 138****5678


def _audit_reveals(db, complainant_id):
    return [
        dict(r)
        for r in db.query(
            "SELECT username, action, after FROM audit_log WHERE table_name = 'complainant' AND row_id = ? AND action = 'reveal'", [complainant_id]
        )
    ]


def _found(api, user, incident, q):
    from urllib.parse import quote

    page = api(user, "GET", f"/api/v1/incidents/{incident['id']}/complainants?q={quote(q)}")
    assert page.status_code == 200, page.json
    return {c["id"] for c in page.json["complainants"]}


def test_digit_by_digit_search_never_narrows(api, db, incident):
    """The attack: keep the prefix, try each next digit, keep the one that still matches."""
    everyone_in_scope = _found(api, "branch_hebei", incident, "")
    assert incident["hebei_outlet_1"] in everyone_in_scope
    for length in range(0, len(MASKED_TARGET) - 1):
        prefix = MASKED_TARGET[:length]
        if length + 1 == 4:
            continue  # four digits are a last-four search (the mask shows those anyway): below
        narrowed = {d: _found(api, "branch_hebei", incident, prefix + d) for d in "0123456789"}
        # no next digit singles the target out: every partial number finds no one
        assert all(found == set() for found in narrowed.values()), (prefix, narrowed)
    # a middle run of digits finds nobody either
    assert _found(api, "branch_hebei", incident, "23456") == set()
    assert _audit_reveals(db, incident["hebei_outlet_1"]) == []


def test_last_four_digits_find_without_an_audit_entry(api, db, incident):
    assert _found(api, "branch_hebei", incident, "5678") == {incident["hebei_outlet_1"], incident["hebei_outlet_2"]}
    assert _audit_reveals(db, incident["hebei_outlet_1"]) == []


@pytest.mark.parametrize("q, field", [("138 1234 5678", "phone"), ("130105195501011234", "id_number")])
def test_a_whole_number_search_is_audited_like_a_reveal(api, db, incident, q, field):
    assert _found(api, "branch_hebei", incident, q) == {incident["hebei_outlet_1"]}
    entries = _audit_reveals(db, incident["hebei_outlet_1"])
    assert len(entries) == 1 and entries[0]["username"] == "branch_hebei"
    assert f'"field": "{field}"' in entries[0]["after"] and '"via": "search"' in entries[0]["after"]
    # other complainants were not found, so nothing is logged for them
    assert _audit_reveals(db, incident["hebei_outlet_2"]) == []


def test_the_html_search_is_audited_too(login, db, incident):
    page = login("team").get(f"/incidents/{incident['id']}/complainants?q=13912345678")
    assert page.status_code == 200 and "李秀英" in page.get_data(as_text=True)
    assert [e["username"] for e in _audit_reveals(db, incident["hebei_outlet_2"])] == ["team"]


def test_a_number_outside_the_viewers_scope_finds_and_logs_nothing(api, db, incident):
    assert _found(api, "branch_hebei", incident, "13712345678") == set()
    assert _audit_reveals(db, incident["guangdong"]) == []


@pytest.mark.parametrize(
    "q, kind",
    [
        ("张", "name"),
        ("5678", "last4"),
        ("138-1234-5678", "number"),
        ("13010919600202222x", "number"),
        ("138", "none"),
        ("1381234567", "number"),
        ("12345", "none"),
    ],
)
def test_search_kinds(q, kind):
    assert search_kind(q)[0] == kind
