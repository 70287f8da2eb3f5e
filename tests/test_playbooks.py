"""Playbooks as data (console/playbooks.py): every file in playbooks/ loads, and
each kind of mistake in a playbook is reported with the file, the exact line and
a message that says what is wrong, both by ``console.playbooks.parse`` and by
``python run.py playbook check FILE``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import playbooks
from console.playbooks import PlaybookError, parse

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK_FILES = sorted(p for pattern in ("*.yaml", "*.yml") for p in (ROOT / "playbooks").glob(pattern))

# A small valid playbook; the number on the right is the line each row is on.
BASE = [
    "id: demo",  # 1
    "title: {zh: 演示, en: Demo}",  # 2
    "description: {zh: 演示预案, en: Demo playbook}",  # 3
    "defaults:",  # 4
    "  police: 15",  # 5
    "streams:",  # 6
    "  regulator: {zh: 监管, en: Regulator}",  # 7
    "tasks:",  # 8
    "  - key: first_task",  # 9
    "    stream: regulator",  # 10
    "    title: {zh: 第一, en: First}",  # 11
    "    owner_role: lead",  # 12
    "    trigger: activation",  # 13
    "    due: {minutes: 30}",  # 14
    "  - key: second_task",  # 15
    "    stream: regulator",  # 16
    "    title: {zh: 第二, en: Second}",  # 17
    "    owner_role: team",  # 18
    "    trigger: activation",  # 19
    "    due:",  # 20
    "      setting: police",  # 21
    "    depends_on: [first_task]",  # 22
]


def text(lines):
    return "\n".join(lines) + "\n"


def replace(**by_line):
    """BASE with lines replaced: replace(l16="    stream: press")."""
    lines = list(BASE)
    for name, new in by_line.items():
        lines[int(name[1:]) - 1] = new
    return text(lines)


def insert(after, *new):
    lines = list(BASE)
    lines[after:after] = list(new)
    return text(lines)


def drop(line):
    lines = list(BASE)
    del lines[line - 1]
    return text(lines)


# (name, YAML text, expected line, expected place ('' for the whole document), words the message must hold)
CASES = [
    ("syntax_error", replace(l12="    owner_role: lead: boss"), 12, "", ["not valid YAML", "mapping values are not allowed"]),
    ("unclosed_quote", replace(l3='description: {zh: 演示预案, en: "Demo playbook}'), 3, "", ["not valid YAML"]),
    ("a_list_not_a_mapping", "- id: demo\n- tasks: []\n", 1, "", ["a playbook is a mapping"]),
    ("plain_text", "just some words\n", 1, "", ["a playbook is a mapping"]),
    ("empty_file", "", 1, "", ["a playbook is a mapping"]),
    ("missing_tasks", text(BASE[:7]), 1, "tasks", ["is required"]),
    ("task_missing_title", drop(17), 15, "tasks.1.title", ["is required"]),
    ("unknown_field", replace(l18="    owner_rol: team"), 18, "tasks.1.owner_rol", ["is not a field this accepts"]),
    ("bad_key_format", replace(l15="  - key: Second-Task"), 15, "tasks.1.key", ["lower-case letters"]),
    ("unknown_stream", replace(l16="    stream: press"), 16, "tasks.1.stream", ["unknown stream 'press'", "declare it under streams"]),
    ("unknown_owner_role", replace(l18="    owner_role: boss"), 18, "tasks.1.owner_role", ["must be one of", "'lead'", "'legal'"]),
    ("unknown_trigger", replace(l19="    trigger: hourly"), 19, "tasks.1.trigger", ["must be one of", "'activation'", "'daily'"]),
    ("due_two_ways", insert(21, "      minutes: 5"), 20, "tasks.1.due", ["exactly one of minutes, setting or at"]),
    ("due_nothing", text(BASE[:19] + ["    due: {}"] + BASE[21:]), 20, "tasks.1.due", ["exactly one of minutes, setting or at"]),
    ("undeclared_default", replace(l21="      setting: lawyers"), 21, "tasks.1.due.setting", ["unknown default 'lawyers'", "declare it under defaults"]),
    ("daily_without_at", replace(l19="    trigger: daily"), 20, "tasks.1.due", ["daily task is due 'at'"]),
    ("at_on_a_non_daily_task", replace(l21='      at: "18:00"'), 20, "tasks.1.due", ["only daily tasks"]),
    ("bad_time", replace(l19="    trigger: daily", l21='      at: "25:00"'), 21, "tasks.1.due.at", ["HH:MM"]),
    ("unknown_dependency", replace(l22="    depends_on: [third_task]"), 22, "tasks.1.depends_on", ["unknown task 'third_task'"]),
    ("depends_on_itself", replace(l22="    depends_on: [second_task]"), 22, "tasks.1.depends_on", ["cannot depend on itself"]),
    # first_task -> second_task -> first_task: the new line 15 is first_task's depends_on
    ("dependency_cycle", insert(14, "    depends_on: [second_task]"), 15, "tasks.0.depends_on", ["circle", "first_task -> second_task -> first_task"]),
    ("duplicate_key", replace(l15="  - key: first_task"), 15, "tasks.1.key", ["'first_task' is used twice"]),
    ("empty_task_list", text(BASE[:7] + ["tasks: []"]), 8, "tasks", ["at least 1"]),
]


def problem_at(problems, line, where):
    return [p for p in problems if p[0] == line and p[1] == where]


# --- the playbooks shipped in playbooks/ --------------------------------------------------------


def test_the_playbook_folder_has_the_default_playbook():
    names = [p.name for p in PLAYBOOK_FILES]
    assert "mass_complaint.yaml" in names and "telemarketing.yaml" in names


@pytest.mark.parametrize("path", PLAYBOOK_FILES, ids=lambda p: p.name)
def test_every_playbook_file_loads(path):
    book = playbooks.load(path)
    assert book.tasks
    assert path.suffix == ".yaml", f"{path.name}: playbooks.available() reads only *.yaml, so this file would be ignored"


def test_available_offers_every_file_once_by_a_distinct_id():
    books = playbooks.available()
    ids = [playbooks.load(p).id for p in PLAYBOOK_FILES]
    assert len(ids) == len(set(ids)), f"two playbook files share an id: {ids}"
    assert sorted(books) == sorted(ids)
    assert playbooks.get("mass_complaint") is books["mass_complaint"]


def test_the_default_playbook_encodes_the_reporting_timers():
    book = playbooks.get("mass_complaint")
    minutes = {t.key: book.defaults[t.due.setting] for t in book.tasks if t.due.setting}
    assert minutes["regulator_phone_report"] == 30 and minutes["regulator_written_report"] == 60
    assert minutes["police_notification"] == 15 and minutes["follow_up_call"] == 7 * 24 * 60
    assert book.task("regulator_daily_progress").due.at == "18:00"
    assert book.task("regulator_phone_report").depends_on == ["regulator_liaison"]


@pytest.mark.parametrize("path", PLAYBOOK_FILES, ids=lambda p: p.name)
def test_playbook_check_accepts_each_shipped_playbook(path):
    result = subprocess.run([sys.executable, "run.py", "playbook", "check", str(path.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout and playbooks.load(path).id in result.stdout


def test_playbook_check_of_the_default_playbook_exits_0():
    result = subprocess.run(
        [sys.executable, "run.py", "playbook", "check", "playbooks/mass_complaint.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("playbooks/mass_complaint.yaml: playbook 'mass_complaint' is valid")


# --- each mistake: the file, the line, a clear message ------------------------------------------


def test_the_base_playbook_of_these_tests_is_valid():
    book = parse(text(BASE), "base.yaml")
    assert [t.key for t in book.tasks] == ["first_task", "second_task"]
    assert book.task("second_task").due.setting == "police"


@pytest.mark.parametrize("name, source, line, where, words", CASES, ids=[c[0] for c in CASES])
def test_parse_names_the_line_and_the_problem(name, source, line, where, words):
    with pytest.raises(PlaybookError) as caught:
        parse(source, "bad.yaml")
    error = caught.value
    assert error.path == "bad.yaml"
    matching = problem_at(error.problems, line, where)
    assert matching, f"expected a problem at line {line} ({where or 'document'}), got {error.problems}"
    message = matching[0][2]
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    prefix = f"bad.yaml:{line}: {where + ': ' if where else ''}"
    assert any(row.startswith(prefix) for row in str(error).splitlines()), str(error)
    assert all(p[0] is not None and 1 <= p[0] <= max(1, len(source.splitlines())) for p in error.problems), f"a line outside the file: {error.problems}"


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """``python run.py playbook check`` of every case's file, run side by side: name -> (path, CompletedProcess-like)."""
    folder = tmp_path_factory.mktemp("bad_playbooks")
    running = {}
    for name, source, *_rest in CASES:
        path = folder / f"{name}.yaml"
        path.write_text(source, encoding="utf-8")
        running[name] = (
            path,
            subprocess.Popen([sys.executable, "run.py", "playbook", "check", str(path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        )
    results = {}
    for name, (path, process) in running.items():
        stdout, stderr = process.communicate(timeout=300)
        results[name] = (path, process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("name, source, line, where, words", CASES, ids=[c[0] for c in CASES])
def test_playbook_check_prints_file_line_and_problem(checked, name, source, line, where, words):
    path, returncode, stdout, stderr = checked[name]
    assert returncode == 1, (stdout, stderr)
    assert "is valid" not in stdout
    rows = [r for r in stderr.splitlines() if r.startswith(f"{path}:{line}: {where + ': ' if where else ''}")]
    assert rows, f"no line '{path}:{line}: {where}...' in:\n{stderr}"
    for word in words:
        assert word.lower() in rows[0].lower(), f"{word!r} not in {rows[0]!r}"


def test_a_typo_in_a_field_name_also_says_the_real_field_is_missing():
    with pytest.raises(PlaybookError) as caught:
        parse(replace(l18="    owner_rol: team"), "typo.yaml")
    assert problem_at(caught.value.problems, 18, "tasks.1.owner_rol")
    assert problem_at(caught.value.problems, 15, "tasks.1.owner_role")  # the task that lacks it


def test_an_unreadable_file_is_a_playbook_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(PlaybookError) as caught:
        playbooks.load(missing)
    assert str(caught.value).startswith(f"{missing}:?: cannot read the file")


def test_a_bad_file_in_the_folder_makes_available_fail_naming_it(tmp_path):
    (tmp_path / "good.yaml").write_text(text(BASE), encoding="utf-8")
    assert list(playbooks.available(tmp_path)) == ["demo"]
    bad = tmp_path / "zz_bad.yaml"
    bad.write_text(replace(l16="    stream: press"), encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        playbooks.available(tmp_path)
    assert str(caught.value).startswith(f"{bad}:16: tasks.1.stream: unknown stream 'press'")


def test_a_changed_file_is_read_again(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text(text(BASE), encoding="utf-8")
    assert playbooks.load(path).task("first_task").due.minutes == 30
    path.write_text(replace(l14="    due: {minutes: 45}"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later mtime, without sleeping
    assert playbooks.load(path).task("first_task").due.minutes == 45
