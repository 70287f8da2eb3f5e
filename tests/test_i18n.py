"""Languages: the zh_CN catalogue covers every message in the source, and the
console answers in the language the client asks for.

The messages are extracted from the source tree at test time, with the method
map of babel.cfg and the keywords docs/translations.md gives to pybabel, so a
string wrapped in _() later and not translated fails here.
"""

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from console.i18n import catalogue_path, load_translations

ROOT = Path(__file__).resolve().parent.parent
# the -k options of `pybabel extract` in docs/translations.md
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def extracted_messages():
    """msgid -> the places it is used, from the source tree, as pybabel would extract it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def zh_catalogue():
    with open(catalogue_path("zh_CN"), "rb") as f:
        return read_po(f, locale="zh_CN")


def placeholders(text):
    return sorted(set(PLACEHOLDER.findall(text)))


def stray_percent(text):
    """A % that is neither a placeholder nor %%: Jinja formats every template string, so it would fail."""
    return "%" in PLACEHOLDER.sub("", text).replace("%%", "")


MESSAGES = extracted_messages()


def test_extraction_finds_the_messages():
    ids = {msgid for msgid, _context in MESSAGES}
    # one from a template, one from a view, one lazy from the vocabulary, one from the domain
    assert {"Incidents", "Complainant added.", "Petition (xinfang)", "The file is empty."} <= ids
    assert "Page %(page)s of %(pages)s" in ids
    assert len(ids) > 200


def test_every_message_has_a_chinese_translation():
    catalogue = zh_catalogue()
    assert not catalogue.fuzzy, "the catalogue header is marked fuzzy"
    problems = []
    for (msgid, context), places in sorted(MESSAGES.items()):
        where = places[0]
        entry = catalogue.get(msgid, context=context)
        if entry is None:
            problems.append(f"{where}: not in the catalogue: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"{where}: no translation: {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"{where}: fuzzy translation: {msgid!r}")
        for text in strings:
            if placeholders(text) != placeholders(msgid):
                problems.append(f"{where}: placeholders {placeholders(text)} in {text!r}, {placeholders(msgid)} in {msgid!r}")
            if stray_percent(text) and not stray_percent(msgid):
                problems.append(f"{where}: a bare % in {text!r}")
    assert not problems, "run the commands in docs/translations.md, then translate:\n" + "\n".join(problems)


def test_catalogue_has_no_fuzzy_or_broken_entries():
    catalogue = zh_catalogue()
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not fuzzy
    broken = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert not broken


def test_catalogue_compiles_and_translates():
    zh = load_translations("zh_CN")
    assert zh.gettext("Incidents") == "事件"
    assert zh.gettext("Crisis lead") == "危机负责人"
    assert zh.gettext("Page %(page)s of %(pages)s") % {"page": 2, "pages": 5} == "第 2 页，共 5 页"


def _page(client, url, lang=None):
    headers = {"Accept-Language": lang} if lang else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_in_chinese_when_the_browser_asks(login, incident):
    client = login("lead")
    html = _page(client, "/incidents", "zh-CN,zh;q=0.9,en;q=0.5")
    assert "<h1>事件</h1>" in html
    assert "危机负责人" in html  # the role in the header
    assert ">Incidents<" not in html
    html = _page(client, f"/incidents/{incident['id']}/complainants", "zh-CN")
    assert "投诉人" in html and "第 1 页，共 1 页" in html


def test_page_in_english_when_the_browser_asks(login, incident):
    client = login("lead")
    html = _page(client, "/incidents", "en-GB,en;q=0.9")
    assert "<h1>Incidents</h1>" in html
    assert "Crisis lead" in html
    assert "危机负责人" not in html


def test_lang_switch_is_remembered_in_the_session(login, accounts):
    client = login("lead")
    assert "<h1>Incidents</h1>" in _page(client, "/incidents?lang=en", "zh-CN")
    # the next request, without ?lang=, keeps English although the browser asks for Chinese
    assert "<h1>Incidents</h1>" in _page(client, "/incidents", "zh-CN")
    with client.session_transaction() as session:
        assert session["lang"] == "en"
    assert "<h1>事件</h1>" in _page(client, "/incidents?lang=zh_CN", "en")
    assert "<h1>事件</h1>" in _page(client, "/incidents", "en")


def test_page_marks_its_language_and_offers_the_other(login, accounts):
    client = login("lead")
    html = _page(client, "/incidents", "zh-CN")
    assert '<html lang="zh-CN">' in html
    assert "?lang=en" in html and "?lang=zh_CN" not in html
    html = _page(client, "/incidents", "en")
    assert '<html lang="en">' in html
    assert "?lang=zh_CN" in html and "?lang=en" not in html


def _refused_status_change(api, incident, lang):
    response = api(
        "lead",
        "PATCH",
        f"/api/v1/complainants/{incident['hebei_outlet_1']}",
        json={"status": "settled"},  # new -> settled skips the whole funnel
        headers={"Accept-Language": lang},
    )
    assert response.status_code == 422
    return response.json["error"]


def test_api_error_in_english(api, incident):
    assert _refused_status_change(api, incident, "en").startswith("Cannot move from 'new' to 'settled'")


def test_api_error_in_the_clients_language(api, incident):
    message = _refused_status_change(api, incident, "zh-CN")
    assert message.startswith("不能从“new”变更为“settled”"), message
