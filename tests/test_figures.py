"""The headline figures (console/figures.py) on the demo: the board's snapshot,
the roll-up and the regulator's report give the same numbers as figures.py and
as an independent SQL count, and each place shows the figure's definition."""

import html
import io
import re
import zipfile
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from console import board, documents, figures, rollup_exports, rollups, users
from console.audit import Actor
from console.clock import to_iso

from .conftest import DEMO_ACCOUNTS_NOW, logged_in
from .pdfs import flat, pdf_text

NOW = DEMO_ACCOUNTS_NOW  # conftest: the moment the shared demo is loaded as of


@pytest.fixture
def incident_id(demo_db):
    """The demo incident (conftest's demo_db: a copy of the shared demo)."""
    return demo_db


def viewer(db, username):
    return users.viewer_for(db, next(iter(db.query("SELECT * FROM user WHERE username = ?", [username]))))


def one(db, sql, params=()):
    return db.execute(sql, params).fetchone()[0]


def sql_figures(db, incident_id, now, province=None):
    """The headline figures counted here, without console/figures.py."""
    place = " AND province_code = ?" if province else ""
    extra = [province] if province else []

    def count(condition, params=()):
        return one(db, f"SELECT count(*) FROM complainant WHERE incident_id = ? AND {condition}{place}", [incident_id, *params, *extra])

    latest = {}
    for u in db.query("SELECT id, branch_code, province_code, people_on_site FROM hourly_update WHERE incident_id = ? ORDER BY id", [incident_id]):
        if province is None or u["province_code"] == province:
            latest[u["branch_code"]] = u["people_on_site"]  # ordered by id: the last one of each outlet stays
    return {
        "complainants": count("1"),
        "new_last_hour": count("created_at >= ?", [to_iso(now - timedelta(hours=1))]),
        "received_last_24h": count("received_at >= ? AND received_at < ?", [to_iso(now - timedelta(hours=24)), to_iso(now)]),
        "settled_now": count("status = 'settled'"),
        "settled_to_date": count("settled_at IS NOT NULL"),
        "escalated_now": count("status = 'escalated'"),
        "on_site_now": sum(latest.values()),
    }


def test_the_board_counts_each_figure_as_figures_py_and_sql_do(app, db, incident_id):
    expected = sql_figures(db, incident_id, NOW)
    # the demo has people settled and since closed: the two "settled" figures differ, so one cannot pass for the other
    assert expected["settled_to_date"] > expected["settled_now"] > 0
    assert expected["on_site_now"] > 0 and expected["new_last_hour"] > 0 and expected["escalated_now"] > 0
    with app.test_request_context():
        assert figures.headline(db, incident_id, NOW) == expected
        snap = board.snapshot(db, incident_id, viewer(db, "lead"), NOW, app.config)
    shown = snap["figures"]
    assert shown == {k: expected[k] for k in shown}
    assert set(shown) == {"complainants", "new_last_hour", "settled_now", "settled_to_date", "escalated_now", "on_site_now"}
    # the numbers board.js adds up live agree with them
    assert sum(c["count"] for c in snap["counts"]) == expected["complainants"]
    assert sum(c["count"] for c in snap["counts"] if c["status"] == "settled") == expected["settled_now"]
    assert snap["new_last_hour"] == expected["new_last_hour"] and snap["on_site"] == expected["on_site_now"]


def test_a_branch_contact_sees_the_figures_of_their_province(app, db, incident_id):
    hebei = viewer(db, "branch_hebei")
    expected = sql_figures(db, incident_id, NOW, province="130000")
    assert 0 < expected["complainants"] < sql_figures(db, incident_id, NOW)["complainants"]
    with app.test_request_context():
        assert figures.headline(db, incident_id, NOW, hebei) == expected
        shown = board.snapshot(db, incident_id, hebei, NOW, app.config)["figures"]
    assert shown == {k: expected[k] for k in shown}


def test_the_rollup_holds_the_same_figures_and_their_definitions(app, db, incident_id):
    expected = sql_figures(db, incident_id, NOW)
    lead = db.execute("SELECT id FROM user WHERE username = 'lead'").fetchone()[0]
    with app.test_request_context():
        rollup_id = rollups.make(db, incident_id, NOW, NOW, app.config, "lead", Actor(lead, "lead", "test"))
    row = rollups.get(db, rollup_id)
    table = rollup_exports.rows(row)
    totals = {item: value for section, item, value in table if section == "合计"}
    assert totals == {
        "投诉人总数": expected["complainants"],
        "本期新增": one(
            db,
            "SELECT count(*) FROM complainant WHERE incident_id = ? AND created_at > ? AND created_at <= ?",
            [incident_id, row["period_start"], row["period_end"]],
        ),
        "本期和解": one(
            db,
            "SELECT count(*) FROM complainant WHERE incident_id = ? AND settled_at > ? AND settled_at <= ?",
            [incident_id, row["period_start"], row["period_end"]],
        ),
        "累计和解": expected["settled_to_date"],
        "已和解（当前）": expected["settled_now"],
    }
    notes = {item: value for section, item, value in table if section == rollup_exports.DEFINITIONS_SECTION}
    assert notes == {figures.FIGURES[k].zh_label: figures.FIGURES[k].zh_definition for k in figures.ROLLUP}
    assert "和解后已结案的不计入" in notes["已和解（当前）"] and "含和解后已结案的" in notes["累计和解"]


def test_the_regulator_report_states_the_same_figures_and_defines_them(app, db, incident_id, tmp_path):
    expected = sql_figures(db, incident_id, NOW)
    peak = one(db, "SELECT max(people_on_site) FROM hourly_update WHERE incident_id = ?", [incident_id])
    content = documents.regulator_report(db, incident_id, NOW, app.config, "周国强", "吴敏", "010-88886666")
    text = flat(pdf_text(content, tmp_path))
    assert f"共涉及客户{expected['complainants']}人" in text
    assert f"和解情况：已和解（当前）{expected['settled_now']}人，累计和解{expected['settled_to_date']}人" in text
    assert f"现场共{expected['on_site_now']}人" in text
    assert f"近24小时新增{expected['received_last_24h']}人" in text
    assert f"单次最多到场人数：{peak}人" in text
    definitions = text[text.index("附：指标说明") :]
    for label, meaning in figures.zh_definitions(figures.REGULATOR_REPORT):
        assert flat(label + meaning) in definitions, label


def test_the_consumer_association_packet_states_the_same_count_and_defines_it(app, db, incident_id, tmp_path):
    expected = sql_figures(db, incident_id, NOW)
    content = documents.consumer_association_packet(db, incident_id, NOW, app.config, "吴敏", "010-88886666")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = flat(pdf_text(archive.read("packet.pdf"), tmp_path))
    assert f"涉及客户（投诉人总数）{expected['complainants']}人" in text
    definitions = text[text.index("附：指标说明") :]
    label, meaning = figures.zh_definitions(("complainants",))[0]
    assert flat(label + meaning) in definitions


class _Board(HTMLParser):
    """The headline figures (label and title) and the definitions list of a board page."""

    def __init__(self):
        super().__init__()
        self.titles, self.terms, self.details, self._in = {}, [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "data-figure" in attrs and "figure" in attrs.get("class", ""):
            self.titles[attrs["data-figure"]] = attrs.get("title")
        if tag in ("dt", "dd"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag in ("dt", "dd"):
            self._in = None

    def handle_data(self, data):
        if self._in == "dt":
            self.terms.append(data)
        elif self._in == "dd":
            self.details.append(data)


@pytest.mark.parametrize("username,page", [("team", "board"), ("executive", "wall")])
def test_the_board_and_the_wall_show_each_figure_with_its_definition(app, db, incident_id, username, page):
    client = logged_in(app, username)
    response = client.get(f"/incidents/{incident_id}/{page}?lang=zh_CN")
    assert response.status_code == 200
    parsed = _Board()
    parsed.feed(response.get_data(as_text=True))
    assert parsed.titles == {k: figures.FIGURES[k].zh_definition for k in figures.BOARD}
    assert parsed.terms == [figures.FIGURES[k].zh_label for k in figures.BOARD]
    assert parsed.details == [figures.FIGURES[k].zh_definition for k in figures.BOARD]
    assert "已和解（当前）" in parsed.terms


def test_the_rollup_page_shows_the_definitions_beside_the_figures(app, db, incident_id):
    lead = db.execute("SELECT id FROM user WHERE username = 'lead'").fetchone()[0]
    with app.test_request_context():
        rollup_id = rollups.make(db, incident_id, NOW, NOW, app.config, "lead", Actor(lead, "lead", "test"))
    for lang in ("zh_CN", "en"):
        text = html.unescape(logged_in(app, "lead").get(f"/rollups/{rollup_id}?lang={lang}").get_data(as_text=True))
        with app.test_request_context(f"/?lang={lang}"):
            shown = figures.definitions(figures.ROLLUP)
        for f in shown:
            label = figures.FIGURES[f["key"]].zh_label  # the roll-up's rows are in Chinese
            assert re.search(rf'data-figure-label="{re.escape(label)}" title="{re.escape(f["definition"])}"', text), (lang, label)
    assert "Complainants who reached settled at any time" in text  # the English page defines them in English


def test_each_incident_state_grouping_is_a_set_of_known_states():
    from console.vocabulary import INCIDENT_STATUSES

    groupings = (
        figures.OPEN_INCIDENT_STATUSES,
        figures.RESPONDING_INCIDENT_STATUSES,
        figures.NOT_CLOSED_INCIDENT_STATUSES,
        figures.ENDED_INCIDENT_STATUSES,
    )
    for statuses in groupings:
        assert set(statuses) <= set(INCIDENT_STATUSES)
    assert set(figures.RESPONDING_INCIDENT_STATUSES) < set(figures.OPEN_INCIDENT_STATUSES) < set(figures.NOT_CLOSED_INCIDENT_STATUSES)
    assert not set(figures.OPEN_INCIDENT_STATUSES) & set(figures.ENDED_INCIDENT_STATUSES)
    assert figures.incident_status_sql(figures.OPEN_INCIDENT_STATUSES, "incident.status") == "incident.status IN ('monitoring', 'active')"


def test_every_figure_has_a_chinese_label_and_definition():
    for f in figures.FIGURES.values():
        assert f.zh_label != f.label_msgid and f.zh_definition != f.definition_msgid, f.key
