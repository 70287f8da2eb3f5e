"""console/money.py: the one way to read, keep (fen) and print an amount."""

import math
import random
from decimal import Decimal

import numpy
import pytest
from flask import render_template_string

from console import money
from console.errors import Invalid

from .conftest import row_counts


@pytest.mark.parametrize(
    "value, fen",
    [
        (0, 0),
        (12000, 1200000),
        (12000.5, 1200050),
        (0.01, 1),
        (0.1, 10),
        (Decimal("80000.50"), 8000050),
        (Decimal("80000.500"), 8000050),  # trailing zeros are not more precision
        ("80000.50", 8000050),
        (" 12 ", 1200),
        ("¥12,000.00", 1200000),
        ("￥1,234,567.5", 123456750),
        ("¥ 48,000", 4800000),
        ("CNY 80000.50", 8000050),
        ("80000.50 CNY", 8000050),
        ("cny80000", 8000000),
        ("12.", 1200),
        (".5", 50),
        (99_999_999_999.99, 9_999_999_999_999),
        (money.MAX_YUAN, money.MAX_YUAN * 100),
    ],
)
def test_parse_reads_amounts_as_whole_fen(ctx, value, fen):
    got = money.parse(value, "principal")
    assert got == fen and type(got) is int


@pytest.mark.parametrize(
    "value, message",
    [
        (12.345, "has more than two decimals"),
        ("12.345", "has more than two decimals"),
        (Decimal("0.001"), "has more than two decimals"),
        ("¥1,000.005", "has more than two decimals"),
        (0.1 + 0.2, "has more than two decimals"),  # 0.30000000000000004: nothing is rounded away
        (-5, "must be 0 or more"),
        ("-0.01", "must be 0 or more"),
        (Decimal("-1"), "must be 0 or more"),
        (money.MAX_YUAN + 0.01, "must be 100000000000 or less"),
        ("100,000,000,001", "must be 100000000000 or less"),
        ("", "must be a valid number, such as 12000.50"),
        ("abc", "must be a valid number, such as 12000.50"),
        ("12,00", "must be a valid number, such as 12000.50"),  # a decimal comma is not a thousands separator
        ("1,2,3", "must be a valid number, such as 12000.50"),
        ("１２", "must be a valid number, such as 12000.50"),  # full-width digits: refused today as before
        ("$12", "must be a valid number, such as 12000.50"),
        ("1e3", "must be a valid number, such as 12000.50"),
        (None, "must be a valid number, such as 12000.50"),
        (True, "must be a valid number, such as 12000.50"),
        (math.nan, "must be a valid number, such as 12000.50"),
        (math.inf, "must be a valid number, such as 12000.50"),
        (Decimal("NaN"), "must be a valid number, such as 12000.50"),
        ([12], "must be a valid number, such as 12000.50"),
    ],
)
def test_parse_refuses_with_a_message_naming_the_field(ctx, value, message):
    assert money.problem(value) == message
    with pytest.raises(Invalid) as refused:
        money.parse(value, "principal")
    assert refused.value.status == 422
    assert refused.value.message == f"Nothing was changed: principal {message}."
    assert refused.value.details == [{"field": "principal", "message": message}]


def test_refusals_are_translated(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        for value in (12.345, -5, "abc", money.MAX_YUAN * 10):
            message = money.problem(value)
            assert message and not any("a" <= ch <= "z" for ch in message.lower()), message
        with pytest.raises(Invalid) as refused:
            money.parse("12.345", "principal")
        assert "principal" in refused.value.message and "Nothing was changed" not in refused.value.message


def test_problem_is_none_for_good_amounts(ctx):
    for value in (0, 1, 0.05, "1,000", Decimal("7.10"), money.MAX_YUAN):
        assert money.problem(value) is None


def test_to_yuan_is_exact():
    assert money.to_yuan(1250050) == Decimal("12500.50") and str(money.to_yuan(1250050)) == "12500.5"
    assert str(money.to_yuan(5000000)) == "50000"  # what the API has always sent: "50000"
    assert str(money.to_yuan(1250050, cents=True)) == "12500.50" and str(money.to_yuan(0, cents=True)) == "0.00"
    assert money.to_yuan(None) is None and money.to_yuan(None, cents=True) is None
    assert isinstance(money.to_yuan(1), Decimal)
    # a sum no float holds to the fen: Decimal keeps it
    big = 9_007_199_254_740_993
    assert money.to_yuan(big, cents=True) * 100 == big and float(big) / 100 * 100 != big


def test_format():
    assert money.format(1200000) == "¥12,000.00"
    assert money.format(1200000, plain=True) == "12,000.00"
    assert money.format(13000050, plain=True) == "130,000.50"
    assert money.format(5) == "¥0.05" and money.format(0) == "¥0.00" and money.format(0, plain=True) == "0.00"
    assert money.format(3249705600) == "¥32,497,056.00"
    assert money.format(-500) == "-¥5.00" and money.format(-500, plain=True) == "-5.00"
    assert money.format(None) == "" and money.format(None, plain=True) == ""


def test_format_yuan_prints_amounts_already_in_yuan():
    assert money.format_yuan(Decimal("12000")) == "¥12,000.00"
    assert money.format_yuan(Decimal("12500.5")) == "¥12,500.50"
    assert money.format_yuan(1234567 / 100) == "¥12,345.67"  # a template's (fen / 100)
    assert money.format_yuan(48000) == "¥48,000.00"
    assert money.format_yuan(Decimal("32497056.00"), plain=True) == "32,497,056.00"
    assert money.format_yuan("—") == "—"  # a suppressed amount shows its dash
    assert money.format_yuan(None) == ""
    assert money.format_yuan(numpy.float64(1234.5)) == "¥1,234.50"  # a figure computed with numpy (the forecast)


@pytest.mark.parametrize("fen", [0, 1, 9, 10, 99, 100, 101, 123456, 1200050, 999999999, 10**12 + 1, 9_999_999_999_999, money.MAX_YUAN * 100])
def test_round_trips(ctx, fen):
    assert money.parse(money.to_yuan(fen)) == fen
    assert money.parse(money.to_yuan(fen, cents=True)) == fen
    assert money.parse(float(money.to_yuan(fen))) == fen  # the API's float schema type keeps every amount it allows
    assert money.parse(str(money.to_yuan(fen))) == fen
    assert money.parse(money.format(fen)) == fen
    assert money.parse(money.format(fen, plain=True)) == fen
    assert money.format_yuan(money.to_yuan(fen)) == money.format(fen)


def test_clean_text():
    assert money.clean_text("¥12,000.00") == "12000.00"
    assert money.clean_text(" ￥ 1,000 ") == "1000"
    assert money.clean_text("CNY 5") == "5"
    # what is not an amount written with a mark or separators is left for the schema to refuse in its words
    assert money.clean_text("12,00") == "12,00"
    assert money.clean_text("abc") == "abc"
    assert money.clean_text("1e3") == "1e3"


def test_json_text():
    assert money.json_text("80000.50") == 80000.5
    assert money.json_text("5") == 5.0
    for value in ("¥5", "-5", "5 ", "1e3", 5, None):  # the API takes plain digits as text, nothing else
        assert money.json_text(value) == value


def test_the_yuan_filter(app):
    with app.test_request_context():
        assert render_template_string("{{ a|yuan }} {{ b|yuan }} {{ (c / 100)|yuan }}[{{ d|yuan }}]", a=Decimal("12000"), b=0.5, c=4800012, d=None) == (
            "¥12,000.00 ¥0.50 ¥48,000.12[]"
        )


def test_the_api_refuses_over_precision_and_keeps_the_record(api, incident, db):
    person = incident["hebei_outlet_1"]
    before = row_counts(db)
    version = db.execute("SELECT version, principal_fen FROM complainant WHERE id = ?", [person]).fetchone()
    refused = api("team", "PATCH", f"/api/v1/complainants/{person}", json={"principal": 12.345})
    assert refused.status_code == 422
    assert {"field": "principal", "message": "has more than two decimals"} in refused.json["details"]
    assert db.execute("SELECT version, principal_fen FROM complainant WHERE id = ?", [person]).fetchone() == version
    assert row_counts(db) == before
    changed = api("team", "PATCH", f"/api/v1/complainants/{person}", json={"principal": "80000.50"})
    assert changed.status_code == 200, changed.json
    assert db.execute("SELECT principal_fen FROM complainant WHERE id = ?", [person]).fetchone()[0] == 8000050
    assert api("team", "GET", f"/api/v1/complainants/{person}").json["principal"] == "80000.5"  # exact decimal text


def test_floats_read_exactly_as_their_decimal_text(ctx):
    """The float path (bulk imports) agrees with reading the same amount as text, to the fen."""
    rng = random.Random(20261130)
    for _ in range(20000):
        places = rng.choice([0, 1, 2, 3, 4])
        whole = rng.randrange(0, 10 ** rng.randrange(1, 12))
        text = f"{whole}.{rng.randrange(0, 10**places):0{places}d}" if places else str(whole)
        assert money.problem(float(text)) == money.problem(Decimal(text)), text
        if money.problem(text) is None:
            assert money.parse(float(text)) == money.parse(text) == money.parse(Decimal(text)), text


def test_a_csv_import_reads_amounts_as_people_write_them(app, login, db, incident):
    """The import page cleans amounts through money.clean_text: marks and thousands separators; a decimal comma is refused."""
    from .test_csv_import import _complainants, _csv, _page, _token, _upload

    rows = [
        '赵淑兰,13611112222,130102195802021111,130000,130100,HB-SJZ-01,河北邮政分红险2019,,"￥1,234.50",,',
        "钱志强,13633334444,,130000,130100,HB-SJZ-02,河北邮政分红险2019,,CNY 80000,,",
    ]
    client = login("team")
    before = row_counts(db)
    refused = _upload(client, incident["id"], _csv(*rows, '孙美玲,13655556666,,440000,440100,GD-GZ-01,广东银保渠道,,"12,00",,').encode())
    assert "must be a valid number, such as 12000.50" in _page(refused) and _token(refused) is None
    assert row_counts(db) == before
    preview = _upload(client, incident["id"], _csv(*rows).encode())
    assert "All 2 rows are valid." in _page(preview), _page(preview)[-1500:]
    assert client.post(f"/incidents/{incident['id']}/import/{_token(preview)}").status_code == 302
    people = _complainants(db, incident["id"])
    assert people["赵淑兰"]["principal_fen"] == 123_450 and people["钱志强"]["principal_fen"] == 8_000_000


def test_a_form_takes_yuan_signs_and_separators(login, db, incident):
    person = incident["hebei_outlet_2"]
    client = login("team")
    page = client.get(f"/complainants/{person}")
    assert page.status_code == 200 and "¥80,000.50" in page.get_data(as_text=True)  # stored 8000050 fen, printed by the yuan filter
    before, row = row_counts(db), dict(db["complainant"].get(person))
    form = {"version": str(row["version"]), "name": row["name"], "flags__present": "1"}
    for typed, message in (("12.345", "has more than two decimals"), ("12,00", "must be a valid number, such as 12000.50")):
        refused = client.post(f"/complainants/{person}/edit", data={**form, "principal": typed})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), typed
        assert row_counts(db) == before and dict(db["complainant"].get(person)) == row
    saved = client.post(f"/complainants/{person}/edit", data={**form, "principal": "￥1,234,567.80"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[-1500:]
    assert db["complainant"].get(person)["principal_fen"] == 123_456_780
    assert "¥1,234,567.80" in client.get(f"/complainants/{person}").get_data(as_text=True)
