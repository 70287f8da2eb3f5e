"""console/vocabulary.py owns every enumerated value: the database's CHECK
constraints, the API's schema types, the labels in both languages and the
board's colours and time zone are bound to it here, so a word added or renamed
in one place and not the others fails a test."""

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import LazyString

from console import create_app, users, vocabulary
from console.db import connect
from console.i18n import catalogue_path

from .conftest import CHEAP_HASH, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "console" / "static"

# (table, column) of each CHECK (column IN (...)) constraint -> the vocabulary table it must equal
CHECKED = {
    ("user", "role"): "ROLES",
    ("incident", "severity"): "SEVERITIES",
    ("incident", "status"): "INCIDENT_STATUSES",
    ("complainant", "severity"): "SEVERITIES",
    ("intake_complaint", "severity"): "SEVERITIES",
    ("complaint", "severity"): "SEVERITIES",
    ("complaint", "channel"): "COMPLAINT_CHANNELS",
    ("catalogue_entry", "severity"): "SEVERITIES",
    ("catalogue_entry", "kind"): "CATALOGUE_KINDS",
    ("task", "status"): "TASK_STATUSES",
    ("referral", "party"): "PARTIES",
    ("media_item", "kind"): "MEDIA_ITEM_KINDS",
    ("rollup", "report_type"): "ROLLUP_TYPES",
    ("rollup", "status"): "ROLLUP_STATUSES",
    ("settlement_offer", "status"): "OFFER_STATUSES",
    ("settlement", "status"): "SETTLEMENT_STATUSES",
    ("channel", "kind"): "CHANNEL_KINDS",
    ("channel_rule", "min_level"): "ALERT_LEVELS",
}
# The directory's org_unit table holds head office, provinces and cities; outlets are rows of `branch`.
CHECKED_SUBSET = {("org_unit", "kind"): ("ORG_KINDS", {"outlet"})}
# CHECK ... IN constraints that are not words of the trade (flags, bookkeeping kinds, levels as numbers)
NOT_VOCABULARY = {
    ("deadline_extension", "level"),
    ("group_terms", "pays_expenses"),
    ("login_failure", "kind"),
    ("login_lockout", "kind"),
    ("issued_document_rendering", "audience"),
    ("channel_rule", "scope_kind"),
}

# Enums of the OpenAPI document that are not vocabulary: technical options and filters, each with why
NOT_VOCABULARY_ENUMS = {
    ("starttls", "ssl"): "an e-mail channel's connection security",
    ("text", "post", "interactive"): "a Feishu robot's message format",
    ("ets", "poisson"): "the forecast's method",
    ("ok", "failed", "running", "never"): "a monitor's last run",
    ("complaint", "contact", "promise", "offer"): "the kinds of entry in a complainant's history",
    ("first_response", "resolution", "supervisor", "decision", "contact"): "the complainant list's overdue filter",
}
# Enums that are a declared part of a vocabulary table (a new incident starts monitored or active)
SUBSET_ENUMS = {("monitoring", "active"): "INCIDENT_STATUSES"}


def _tables():
    """Every vocabulary table: upper-case dicts whose values are translated labels."""
    tables = {}
    for name in dir(vocabulary):
        table = getattr(vocabulary, name)
        if name.isupper() and isinstance(table, dict) and table and all(isinstance(v, LazyString) for v in table.values()):
            tables[name] = table
    return tables


TABLES = _tables()


@pytest.fixture
def schema_checks(db):
    """(table, column) -> the values its CHECK (column IN (...)) allows, read from the migrated schema."""
    checks = {}
    rows = list(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"))
    for table, sql in rows:
        for column, values in re.findall(r"CHECK\s*\(\s*(\w+)\s+IN\s*\(([^)]*)\)\s*\)", sql, re.I):
            parsed = {v.strip().strip("'") if v.strip().startswith("'") else int(v) for v in values.split(",")}
            assert (table, column) not in checks, f"two CHECK ... IN on {table}.{column}"
            checks[(table, column)] = parsed
    return checks


def test_the_parser_finds_the_check_constraints(schema_checks):
    # a parser that found nothing would make the next test pass for nothing
    assert schema_checks[("incident", "status")] == {"monitoring", "active", "stood_down", "closed"}
    assert schema_checks[("settlement_offer", "status")] == {"open", "accepted", "declined", "superseded", "withdrawn"}
    assert len(schema_checks) >= len(CHECKED) + len(CHECKED_SUBSET) + len(NOT_VOCABULARY)


def test_every_check_constraint_equals_its_vocabulary(schema_checks):
    unbound = set(schema_checks) - set(CHECKED) - set(CHECKED_SUBSET) - NOT_VOCABULARY
    assert not unbound, f"CHECK constraints bound to no vocabulary table: {sorted(unbound)} (add them to CHECKED)"
    for (table, column), name in CHECKED.items():
        assert (table, column) in schema_checks, f"{table}.{column} has no CHECK constraint any more"
        assert schema_checks[(table, column)] == set(getattr(vocabulary, name)), f"{table}.{column} vs vocabulary.{name}"
    for (table, column), (name, elsewhere) in CHECKED_SUBSET.items():
        assert schema_checks[(table, column)] == set(getattr(vocabulary, name)) - elsewhere, f"{table}.{column} vs vocabulary.{name}"
    # the complainant's status has no list of its own in the schema, only the escalation rule
    assert "escalated" in vocabulary.COMPLAINANT_STATUSES


def _enums(node, found):
    if isinstance(node, dict):
        if "enum" in node and len(node["enum"]) > 1:
            found.add(tuple(node["enum"]))
        for value in node.values():
            _enums(value, found)
    elif isinstance(node, list):
        for value in node:
            _enums(value, found)
    return found


def test_every_schema_enum_is_a_vocabulary_table(api):
    document = api(None, "GET", "/api/v1/openapi.json").json
    enums = _enums(document, set())
    keys = {tuple(table): name for name, table in TABLES.items()}
    for enum in enums:
        if enum in keys or enum in NOT_VOCABULARY_ENUMS:
            continue
        assert enum in SUBSET_ENUMS, f"the API's enum {enum} is no vocabulary table (order included)"
        assert set(enum) < set(getattr(vocabulary, SUBSET_ENUMS[enum]))
    # and the enums of the trade the API takes or returns are all there, in the vocabulary's order
    for name in (
        "ROLES",
        "SEVERITIES",
        "INCIDENT_STATUSES",
        "COMPLAINANT_STATUSES",
        "ESCALATION_CHANNELS",
        "TEMPERAMENTS",
        "MOTIVES",
        "RISK_FLAGS",
        "CONTACT_CHANNELS",
        "NOTICE_PROOFS",
        "COMPLAINT_CHANNELS",
        "MOODS",
        "PARTIES",
        "DOCUMENT_KINDS",
        "TASK_TRIGGERS",
        "TASK_STATUSES",
        "SETTLEMENT_STATUSES",
        "OFFER_STATUSES",
        "ROLLUP_TYPES",
        "ROLLUP_STATUSES",
        "ALERT_LEVELS",
        "DEMAND_KINDS",
    ):
        assert tuple(getattr(vocabulary, name)) in enums, f"vocabulary.{name} is not an enum of the OpenAPI document"


def test_formal_label_sets_cover_their_tables():
    # a document's wording differs from the pages' in words only, never in values
    for name in TABLES:
        if name.startswith("FORMAL_"):
            plain = name.removeprefix("FORMAL_")
            assert set(TABLES[name]) >= set(getattr(vocabulary, plain)), name
    assert set(vocabulary.FORMAL_DOCUMENT_KINDS) == set(vocabulary.DOCUMENT_KINDS) | {"review"}


def test_every_value_has_a_label_in_english_and_chinese(app):
    with open(catalogue_path("zh_CN"), "rb") as f:
        catalogue = read_po(f)
    assert len(TABLES) >= 30
    for name, table in TABLES.items():
        for value, text in table.items():
            msgid = vocabulary.msgid(text)
            entry = catalogue.get(msgid)
            assert entry is not None and entry.string, f"vocabulary.{name}[{value!r}] ({msgid!r}) has no Chinese label"
            assert entry.string != msgid, f"vocabulary.{name}[{value!r}] is not translated"
            with app.test_request_context(headers={"Accept-Language": "en"}):
                assert str(text) == msgid
            with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
                assert str(text) == entry.string
            # the documents' and exports' Chinese, with or without a request, is the catalogue's
            assert vocabulary.zh(table, value) == entry.string


def test_chinese_labels_of_documents_and_exports_come_from_the_vocabulary():
    zh = vocabulary.zh
    assert zh(vocabulary.COMPLAINANT_STATUSES, "closed") == "已关闭"  # the pages and the roll-up export
    assert zh(vocabulary.FORMAL_COMPLAINANT_STATUSES, "closed") == "已结案"  # the documents
    assert zh(vocabulary.FORMAL_COMPLAINANT_STATUSES, "accepted") == "已接受方案"
    assert zh(vocabulary.FORMAL_COMPLAINANT_STATUSES, "settled") == zh(vocabulary.COMPLAINANT_STATUSES, "settled")
    assert zh(vocabulary.COMPLAINANT_STATUSES, "no_such_status") == "no_such_status"
    assert zh(vocabulary.COMPLAINANT_STATUSES, None) == ""
    # no module keeps a Chinese table of statuses of its own any more
    modules = [*(ROOT / "console" / "documents").glob("*.py"), *(ROOT / "console" / m for m in ("rollup_exports.py", "export_labels.py", "warning_plan.py"))]
    assert len(modules) > 6
    for path in modules:
        module, text = path.name, path.read_text(encoding="utf-8")
        for word in ("已结案", "已接受方案", "已关闭", "已撤回", "暂无法联系", "已发出", "已办结"):
            assert f'"{word}"' not in text, f"{module} spells {word} itself"


def test_every_complainant_status_has_a_colour():
    assert list(vocabulary.STATUS_COLOURS) == list(vocabulary.COMPLAINANT_STATUSES)
    for status, colour in vocabulary.STATUS_COLOURS.items():
        assert re.fullmatch(r"#[0-9a-f]{6}", colour), (status, colour)
    assert len(set(vocabulary.STATUS_COLOURS.values())) == len(vocabulary.STATUS_COLOURS), "two statuses share a colour"


def test_board_scripts_hard_code_no_colour_status_or_time_zone():
    board = (STATIC / "board.js").read_text(encoding="utf-8")
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b", board), "board.js spells a colour itself"
    assert "config.colours" in board and "config.timezone" in board
    for script in ("board.js", "charts.js", "wall.js", "forecast.js"):
        text = (STATIC / script).read_text(encoding="utf-8")
        assert not re.search(r"timeZone:\s*\"", text), f"{script} spells a time zone itself"
        assert "Asia/" not in text, script
        for label in vocabulary.COMPLAINANT_STATUSES.values():
            assert f'"{vocabulary.msgid(label)}"' not in text, f"{script} spells a status label itself"


def _served_config(app):
    handle = connect(app.config["DATABASE"])
    try:
        users.add_user(handle, "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
        token = users.issue_token(handle, "lead")
    finally:
        handle.close()
    client = app.test_client()
    created = client.post(
        "/api/v1/incidents",
        json={"title": "t", "cause": "c", "product": "p", "severity": "light"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.data
    assert client.post("/login", data={"username": "lead", "password": PASSWORD}).status_code == 302
    page = client.get(f"/incidents/{created.json['id']}/board", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    served = {}
    for name in ("board-config", "forecast-strings"):
        found = re.search(rb'<script type="application/json" id="' + name.encode() + rb'">(.*?)</script>', page.data, re.S)
        served[name] = json.loads(found.group(1))
    return served


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi"])
def test_board_is_served_the_configured_time_zone_and_the_vocabulary(tmp_path, zone):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "console.db"),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "TIMEZONE": zone,
        }
    )
    served = _served_config(app)
    config = served["board-config"]
    assert config["timezone"] == zone == app.config["TIMEZONE"]
    assert config["colours"] == vocabulary.STATUS_COLOURS
    with open(catalogue_path("zh_CN"), "rb") as f:
        catalogue = read_po(f)
    assert config["statuses"] == {k: catalogue.get(vocabulary.msgid(v)).string for k, v in vocabulary.COMPLAINANT_STATUSES.items()}
    assert config["moods"] == {k: catalogue.get(vocabulary.msgid(v)).string for k, v in vocabulary.MOODS.items()}
    # the forecast panel's demand words, from the same table the roll-up export reads
    assert served["forecast-strings"]["kinds"] == {k: catalogue.get(vocabulary.msgid(v)).string for k, v in vocabulary.DEMAND_KINDS.items()}
