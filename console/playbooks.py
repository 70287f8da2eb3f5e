"""Crisis playbooks as data: YAML files in playbooks/, validated when loaded.

A bad playbook fails with the file, the line and what is wrong:
``python run.py playbook check FILE``.
"""

from pathlib import Path
from typing import Annotated, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import vocabulary
from .errors import pydantic_details

PLAYBOOK_DIR = Path(__file__).resolve().parent.parent / "playbooks"

Trigger = Literal[tuple(vocabulary.TASK_TRIGGERS)]
Role = Literal[tuple(vocabulary.ROLES)]
Party = Literal[tuple(vocabulary.PARTIES)]
DocumentKind = Literal[tuple(vocabulary.DOCUMENT_KINDS)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")]


class Text(BaseModel):
    """A label in both languages."""

    model_config = ConfigDict(extra="forbid")
    zh: Annotated[str, Field(min_length=1, max_length=300)]
    en: Annotated[str, Field(min_length=1, max_length=300)]


class Due(BaseModel):
    """When a task is due after its trigger: ``minutes``, or ``setting`` (a name in
    ``defaults`` whose value is minutes), or for daily tasks ``at`` (local HH:MM)."""

    model_config = ConfigDict(extra="forbid")
    minutes: Optional[Annotated[int, Field(ge=0, le=60 * 24 * 90)]] = None
    setting: Optional[Key] = None
    at: Optional[Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]] = None

    @model_validator(mode="after")
    def one_way(self):
        given = [name for name in ("minutes", "setting", "at") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of minutes, setting or at")
        return self


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Key
    stream: Key
    title: Text
    owner_role: Role
    trigger: Trigger
    due: Due
    depends_on: list[Key] = []
    checklist: list[Text] = []
    referral: Optional[Party] = None
    document: Optional[DocumentKind] = None


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Key
    title: Text
    description: Text
    defaults: dict[Key, Annotated[int, Field(ge=0, le=60 * 24 * 90)]] = {}
    streams: dict[Key, Text]
    tasks: Annotated[list[TaskSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def consistent(self):
        keys = [t.key for t in self.tasks]
        seen = set()
        for index, task in enumerate(self.tasks):
            if task.key in seen:
                raise _Located(("tasks", index, "key"), f"task key '{task.key}' is used twice")
            seen.add(task.key)
            if task.stream not in self.streams:
                raise _Located(("tasks", index, "stream"), f"unknown stream '{task.stream}': declare it under streams")
            for dep in task.depends_on:
                if dep not in keys:
                    raise _Located(("tasks", index, "depends_on"), f"depends on unknown task '{dep}'")
                if dep == task.key:
                    raise _Located(("tasks", index, "depends_on"), "a task cannot depend on itself")
            if task.due.setting is not None and task.due.setting not in self.defaults:
                raise _Located(("tasks", index, "due", "setting"), f"unknown default '{task.due.setting}': declare it under defaults")
            if (task.due.at is not None) != (task.trigger == "daily"):
                raise _Located(("tasks", index, "due"), "a daily task is due 'at' a time of day, and only daily tasks are")
        _check_cycles(self.tasks)
        return self

    def task(self, key):
        return next(t for t in self.tasks if t.key == key)


class _Located(ValueError):
    """A rule broken at a known place in the document."""

    def __init__(self, loc, message):
        super().__init__(message)
        self.loc = loc


def _check_cycles(tasks):
    deps = {t.key: t.depends_on for t in tasks}
    index = {t.key: i for i, t in enumerate(tasks)}
    state = {}

    def visit(key, path):
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            raise _Located(("tasks", index[key], "depends_on"), "dependencies go round in a circle: " + " -> ".join(path + [key]))
        state[key] = "visiting"
        for dep in deps[key]:
            visit(dep, path + [key])
        state[key] = "done"

    for key in deps:
        visit(key, [])


class PlaybookError(ValueError):
    """A playbook that cannot be used: ``str()`` names the file, the line and the problem."""

    def __init__(self, path, problems):
        self.path = str(path)
        self.problems = problems  # [(line or None, where, message)]
        lines = [f"{self.path}:{line or '?'}: {where + ': ' if where else ''}{message}" for line, where, message in problems]
        super().__init__("\n".join(lines))


def _line_of(node, loc):
    """The 1-based line of the YAML node at ``loc`` (keys and list indexes), or the nearest parent's."""
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def parse(text, path="<playbook>"):
    """A validated Playbook from YAML text, or PlaybookError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Where the broken construct began (an unclosed quote or bracket) says more than
        # where the parser gave up, which may be the end of the file.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        context = getattr(exc, "context", None)
        problem = getattr(exc, "problem", None) or str(exc)
        message = f"not valid YAML: {problem}" + (f" ({context})" if context else "")
        raise PlaybookError(path, [(mark.line + 1 if mark else None, "", message)]) from None
    if not isinstance(data, dict) or node is None:
        raise PlaybookError(path, [(1, "", "a playbook is a mapping with id, title, description, streams and tasks")])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            ctx_error = (err.get("ctx") or {}).get("error")
            loc = list(ctx_error.loc) if isinstance(ctx_error, _Located) else list(err["loc"])
            if isinstance(ctx_error, _Located):
                message = str(ctx_error)
            else:
                message = pydantic_details(ValidationError.from_exception_data(exc.title, [err]))[0]["message"]
            problems.append((_line_of(node, loc), ".".join(str(p) for p in loc), message))
        raise PlaybookError(path, problems) from None


_cache = {}  # path -> (mtime, Playbook)


def load(path):
    """A validated playbook from a file; re-read only when the file changes."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
        if str(path) in _cache and _cache[str(path)][0] == mtime:
            return _cache[str(path)][1]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(path, [(None, "", f"cannot read the file: {exc}")]) from None
    book = parse(text, path)
    _cache[str(path)] = (mtime, book)
    return book


def available(folder=PLAYBOOK_DIR):
    """Every playbook in the folder, by id. A bad file raises PlaybookError (naming it)."""
    books = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        book = load(path)
        books[book.id] = book
    return books


def get(playbook_id, folder=PLAYBOOK_DIR):
    return available(folder).get(playbook_id)
