"""Issue 17: name search of any length (a surname, a given name, a whole name)
through the two-character words of complainant_name_gram (migrations m021,
m022), kept in step with the name on insert, update, merge, undo and delete, with
filters and region scope applied as for any search."""

import random
import re
from urllib.parse import quote

from console import complainants
from console.migrations import migrate

NAMES = ["王芳", "王建国", "欧阳明华", "李王氏", "张伟", "Li Na", "买买提·艾力", "芳"]


def _add(api, incident_id, names, province="130000"):
    rng = random.Random("".join(names))  # each list its own numbers: equal ones would be linked as one person
    body = [{"name": n, "phone": f"135{rng.randrange(10**8):08d}", "province_code": province} for n in names]
    response = api("lead", "POST", f"/api/v1/incidents/{incident_id}/complainants", json=body)
    assert response.status_code == 201, response.json
    return dict(zip(names, response.json["ids"]))


def _found(api, incident_id, q, extra="", user="lead"):
    response = api(user, "GET", f"/api/v1/incidents/{incident_id}/complainants?per_page=500&q={quote(q)}{extra}")
    assert response.status_code == 200, response.json
    return sorted(c["id"] for c in response.json["complainants"]), response.json["total"]


def _by_scan(db, incident_id, q):
    """What the search must find: every name of the incident that holds q (ASCII case aside)."""
    return sorted(r[0] for r in db.execute("SELECT id, name FROM complainant WHERE incident_id = ?", [incident_id]) if q.lower() in r[1].lower())


def test_one_and_two_characters_find_every_name_that_holds_them(api, db, incident):
    i = incident["id"]
    ids = _add(api, i, NAMES)
    assert _found(api, i, "王")[0] == sorted([ids["王芳"], ids["王建国"], ids["李王氏"]])  # first, and middle character
    assert _found(api, i, "芳")[0] == sorted([ids["王芳"], ids["芳"]])  # last character, and a one-character name
    assert _found(api, i, "王芳") == ([ids["王芳"]], 1)
    assert _found(api, i, "阳明")[0] == [ids["欧阳明华"]]
    assert _found(api, i, "明华")[0] == [ids["欧阳明华"]]
    assert _found(api, i, "王氏")[0] == [ids["李王氏"]]
    assert _found(api, i, "提·")[0] == [ids["买买提·艾力"]]  # a separator inside the two characters
    assert _found(api, i, "·")[0] == [ids["买买提·艾力"]]  # punctuation only
    assert _found(api, i, "li")[0] == [ids["Li Na"]]  # ASCII case-blind, as LIKE was
    assert _found(api, i, "a")[0] == [ids["Li Na"]]
    assert _found(api, i, "王明")[0] == []  # both characters, but not together
    assert _found(api, i, "秀英")[0] == [incident["hebei_outlet_2"]]  # the fixture's 李秀英
    for q in ["王", "芳", "王芳", "阳明", "明", "a", "Na", "国", "建", "陈", "·", "李"]:
        assert _found(api, i, q)[0] == _by_scan(db, i, q), q


def test_three_characters_or_more_find_every_name_that_holds_them_together(api, db, incident):
    """A longer search asks for each of its two-character pieces and the name
    confirms they stand together (the trigram index it replaced, m022)."""
    i = incident["id"]
    ids = _add(api, i, [*NAMES, "建国王", "王建", "李秀英", "Lina Li", "李建国"])
    assert _found(api, i, "王建国") == ([ids["王建国"]], 1)
    assert _found(api, i, "阳明华")[0] == [ids["欧阳明华"]]
    assert _found(api, i, "欧阳明华")[0] == [ids["欧阳明华"]]
    assert _found(api, i, "国王建")[0] == []  # every piece is in 建国王 or 王建国, never together in this order
    assert _found(api, i, "建国王")[0] == [ids["建国王"]]
    assert _found(api, i, "提·艾")[0] == [ids["买买提·艾力"]]  # a separator inside
    assert _found(api, i, "LI NA")[0] == [ids["Li Na"]]  # case-blind, the space kept: not "Lina Li"
    assert _found(api, i, "na l")[0] == [ids["Lina Li"]]
    for q in ["王建国", "建国王", "阳明华", "买买提", "提·艾力", "Li Na", "ina", "秀英", "李秀英", "王建", "国王", "a L", "na Li"]:
        assert _found(api, i, q)[0] == _by_scan(db, i, q), q
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'complainant_name'").fetchall()  # one name index, not two


def test_short_search_combines_with_filters_and_scope(api, db, incident):
    i = incident["id"]
    hebei = _add(api, i, ["王芳", "王建国"])
    guangdong = _add(api, i, ["王丽"], province="440000")
    everyone = sorted([*hebei.values(), *guangdong.values()])
    assert _found(api, i, "王") == (everyone, 3)
    assert _found(api, i, "王", "&province_code=440000") == ([guangdong["王丽"]], 1)
    assert _found(api, i, "王", "&status=settled") == ([], 0)
    assert _found(api, i, "王", user="branch_hebei") == (sorted(hebei.values()), 2)  # region scope applies
    assert _found(api, i, "王丽", user="branch_hebei") == ([], 0)
    # another incident's 王 is not this incident's
    other = api("lead", "POST", "/api/v1/incidents", json={"title": "另一事件", "cause": "c", "product": "p", "severity": "light"}).json["id"]
    _add(api, other, ["王五"])
    assert _found(api, i, "王")[0] == everyone
    assert _found(api, other, "王")[1] == 1


def test_the_words_follow_a_rename_a_merge_its_undo_and_a_delete(api, db, incident):
    i = incident["id"]
    ids = _add(api, i, ["王芳", "王芳芳"])
    first, second = ids["王芳"], ids["王芳芳"]
    assert api("lead", "PATCH", f"/api/v1/complainants/{first}", json={"name": "赵敏"}).status_code == 200
    assert _found(api, i, "王芳")[0] == [second]
    assert _found(api, i, "赵敏")[0] == [first] and _found(api, i, "敏")[0] == [first]
    merged = api("team", "POST", f"/api/v1/complainants/{first}/merge", json={"other_id": second, "reason": "同一人"})
    assert merged.status_code == 201, merged.json
    assert _found(api, i, "芳")[0] == []  # the merged row is gone, and so are its words
    assert api("team", "POST", f"/api/v1/merges/{merged.json['id']}/undo").status_code == 200
    assert _found(api, i, "芳")[0] == [second]  # back with its words
    with db.conn:
        db.execute("DELETE FROM complainant WHERE id = ?", [second])
    assert _found(api, i, "芳")[0] == []
    # the contentless index agrees with the names still there (a wrong delete would leave words behind)
    assert _found(api, i, "王")[0] == _by_scan(db, i, "王") == []
    rows = db.execute("SELECT count(*) FROM complainant_name_gram WHERE complainant_name_gram MATCH '\"赵敏\"'").fetchone()[0]
    assert rows == 1


def test_the_index_reads_words_not_every_name(api, db, incident):
    # the plan of the search's own SQL (complainants._name_search), for a short
    # name (one piece, the name confirming it: ASCII) and a longer one (its pieces)
    for q in ("Li", "王建国"):
        found, args = complainants._name_search(q, incident["id"])
        plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + found[0], args).fetchall())
        # the words found in the FTS5 index, then each hit's row by its id: no scan of the incident's names
        assert "complainant_name_gram VIRTUAL TABLE INDEX" in plan and "SEARCH complainant USING" in plan, (q, plan)
        assert not re.search(r"SCAN complainant( |$)", plan), (q, plan)
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
    assert "complainant_incident_name" not in names  # replaced: one index fewer to write on import


def test_the_migration_indexes_names_already_there(tmp_path):
    """m021 on a database whose complainants came before it: they are found."""
    from sqlite_utils import Database

    from console.migrations import migrations

    db = Database(str(tmp_path / "old.db"))
    migrations.apply(db, stop_before="m021_short_name_search")
    db.execute(
        "INSERT INTO incident (id, title, cause, product, severity, status, opened_at, updated_at) VALUES (1, 't', 'c', 'p', 'light', 'active', 'x', 'x')"
    )
    db.execute(
        "INSERT INTO complainant (id, incident_id, name, phone, province_code, received_at, decision_due_at, created_at, updated_at) "
        "VALUES (7, 1, '欧阳明华', '13500001111', '130000', 'x', 'x', 'x', 'x')"
    )
    db.conn.commit()
    migrate(db)
    assert db.execute("SELECT rowid FROM complainant_name_gram WHERE complainant_name_gram MATCH '\"阳明\"'").fetchall() == [(7,)]
    assert db.execute("SELECT rowid FROM complainant_name_gram WHERE complainant_name_gram MATCH '\"华\" *'").fetchall() == [(7,)]


def test_bulk_hashes_are_the_hashes_one_by_one():
    """identity.arrival_hashes (a bulk import's) gives what id_hash and phone_hash give."""
    from types import SimpleNamespace

    from console.identity import arrival_hashes, id_hash, matching_key, phone_hash

    key = matching_key("s")
    numbers = [
        ("13812345678", "11010519491231002X"),
        ("+86 138-1234-5678", "11010519491231002x"),
        ("0086 13812345678", "110105491231002"),
        ("008613812345678", None),  # all digits, yet not its normal form
        ("+44 20 1234 5678", " 11010519491231002x "),
        ("010-88886666", None),
        (None, None),
        ("", ""),
        ("13812345678", "11010519491231002a"),
    ]
    items = [SimpleNamespace(phone=p, id_number=i) for p, i in numbers]
    ids, phones = arrival_hashes(key, items)
    assert ids == [id_hash(key, i) for _p, i in numbers] and phones == [phone_hash(key, p) for p, _i in numbers]
    assert len({h for h in ids + phones if h}) == 5  # 3 phones (138..., +44..., 010...), 2 ID numbers


def test_a_0086_phone_hashed_with_its_prefix_is_hashed_again(tmp_path):
    """m023: a phone a bulk import hashed with its 0086 gets the hash every other path gives."""
    from sqlite_utils import Database

    from console import identity
    from console.migrations import migrations

    db = Database(str(tmp_path / "old.db"))
    migrations.apply(db, stop_before="m023_rehash_0086_phones")
    key = identity.matching_key("s")
    db.execute(
        "INSERT INTO incident (id, title, cause, product, severity, status, opened_at, updated_at) VALUES (1, 't', 'c', 'p', 'light', 'active', 'x', 'x')"
    )
    wrong = identity.number_hash(key, "phone", "008613812345678")  # what the bulk import stored
    db.execute(
        "INSERT INTO complainant (id, incident_id, name, phone, phone_hash, province_code, received_at, decision_due_at, created_at, updated_at) "
        "VALUES (7, 1, '欧阳明华', '008613812345678', ?, '130000', 'x', 'x', 'x', 'x')",
        [wrong],
    )
    identity.remember_key(db, key)  # the key that made the stored hashes: only missing ones are made again
    db.conn.commit()
    identity.rehash_if_needed(db, key)
    assert db.execute("SELECT phone_hash FROM complainant WHERE id = 7").fetchone()[0] == wrong  # left alone without m023
    migrate(db)
    identity.rehash_if_needed(db, key)
    assert db.execute("SELECT phone_hash FROM complainant WHERE id = 7").fetchone()[0] == identity.phone_hash(key, "13812345678") != wrong
