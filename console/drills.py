"""Drills: a scenario played against a separate drill database at an
accelerated clock, and the drill report.

A scenario (``drills/*.yaml``, checked by ``DrillScenario``) plays the world
outside the console minute by minute: complaints arriving through the intake
(the surge monitor opens the incident, as in life), branch updates, crowds at
an outlet, and branches falling silent. The crisis team works it on the real
screens of a console started on the drill database, with their own accounts
(copied from the real database, which is only read). The console's own clock
(``CLOCK_FILE``, console/clock.py) runs ``speed`` times faster than real time,
so the monitors, timers, deadlines and boards all live in drill time.

Nothing reaches the outside: the drill console has ``DRILL`` on (every page
and document is marked 演练), ``WEBHOOK_URL`` unset, and its fresh database has
no alert channels; the webhook and channel monitors send nothing while
``DRILL`` is on.

At the end, ``report(db, run_id)``: time to activation, to first contact by
group, tasks on time and late, missed updates, and what was never done, all
read from the drill database.
"""

import json
import logging
import os
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import vocabulary
from .audit import Actor
from .caller import Caller
from .clock import from_iso, to_iso
from .db import write
from .figures import OPEN_INCIDENT_STATUSES, RESPONDING_INCIDENT_STATUSES, incident_status_sql

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FOLDER = ROOT / "drills"
ACTOR = Actor(user_id=None, username="drill", route="drill scenario")


# --- the scenario ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(_Strict):
    zh: str
    en: str


class DrillBranch(_Strict):
    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    city_code: str = Field(pattern=r"^\d{6}$")
    reports_hourly: bool = Field(True, description="The scenario posts this branch's hourly update unless it is silent.")


class Complaints(_Strict):
    count: int = Field(ge=1, le=5000)
    branch: str
    cause_code: str = Field(min_length=1, max_length=100)
    product: str = Field(min_length=1, max_length=200)
    channel: str = "counter"
    spread_minutes: int = Field(0, ge=0, le=1440, description="Arrivals spread evenly over this many minutes from the event's minute.")
    texts: list[str] = Field(default_factory=lambda: [""])
    severity: Optional[Literal[tuple(vocabulary.SEVERITIES)]] = None


class Update(_Strict):
    branch: str
    people_on_site: int = Field(ge=0, le=100000)
    mood: Literal[tuple(vocabulary.MOODS)] = "calm"
    banners: bool = False
    media_present: bool = False
    police_present: bool = False
    outlet_closed: bool = False
    actions_taken: str = ""
    needs: str = ""


class Silence(_Strict):
    branch: str
    minutes: int = Field(ge=1, le=10080)


class Event(_Strict):
    at: int = Field(ge=0, description="Minutes after the drill starts.")
    note: str = ""
    complaints: Optional[Complaints] = None
    update: Optional[Update] = None
    crowd: Optional[Update] = None
    silence: Optional[Silence] = None

    def kind(self):
        kinds = [k for k in ("complaints", "update", "crowd", "silence") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"an event has exactly one of complaints, update, crowd, silence (minute {self.at} has {kinds or 'none'})")
        return kinds[0]


class DrillScenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: Text
    description: Text
    seed: str = Field(description="The seed document the scenario is made from.")
    speed: int = Field(60, ge=1, le=100000, description="Drill minutes per real minute.")
    duration_minutes: int = Field(ge=1, le=20160)
    settings: dict = Field(default_factory=dict, description="Console settings for the drill (DEFAULT_PLAYBOOK, SURGE_RULES ...).")
    branches: list[DrillBranch]
    events: list[Event]


class ScenarioError(ValueError):
    pass


def load(path):
    """A scenario file, checked; ScenarioError names the file and what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
        scenario = DrillScenario.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{path}: {problems}") from None
    codes = {b.code for b in scenario.branches}
    for event in scenario.events:
        try:
            kind = event.kind()
        except ValueError as exc:
            raise ScenarioError(f"{path}: {exc}") from None
        branch = getattr(event, kind).branch
        if branch not in codes:
            raise ScenarioError(f"{path}: minute {event.at}: branch {branch!r} is not among the scenario's branches")
    if scenario.settings.keys() - ALLOWED_SETTINGS:
        raise ScenarioError(f"{path}: settings a scenario may not change: {sorted(scenario.settings.keys() - ALLOWED_SETTINGS)}")
    return scenario


# settings a scenario may set for its drill (never where alerts go, never the database)
ALLOWED_SETTINGS = {
    "DEFAULT_PLAYBOOK",
    "SURGE_RULES",
    "HOURLY_UPDATE_MINUTES",
    "HOURLY_UPDATE_GRACE_MINUTES",
    "CROWD_PEOPLE",
    "MAJOR_COMPLAINANTS_IN_PERSON",
    "ORGANISATION_NAME",
}


def shipped():
    """The scenarios shipped in drills/: (file name, scenario)."""
    found = []
    for path in sorted(SCENARIO_FOLDER.glob("*.yaml")):
        try:
            found.append((path.name, load(path)))
        except ScenarioError:
            log.exception("drill scenario %s is invalid", path)
    return found


# --- the drill database and its settings -------------------------------------------------------


def drill_config(scenario, drill_db, clock_file, speed):
    """The settings of a drill console: its own database and clock, DRILL on,
    no webhook, monitors woken every real second (a drill minute passes in
    60/speed real seconds)."""
    return {
        **scenario.settings,
        "DATABASE": str(drill_db),
        "CLOCK_FILE": str(clock_file),
        "DRILL": True,
        "WEBHOOK_URL": None,
        "SCHEDULER": "on",
        "MONITOR_TICK_SECONDS": 1,
        "SOCKETIO_MESSAGE_QUEUE": None,
        "BACKUP_EVERY_MINUTES": 0,
        # a monitor run reads the clock once; at x6000 the drill's clock is 100 minutes
        # further on a second later: allow 30 real seconds of drift in times of receipt
        "RECEIPT_SKEW_MINUTES": max(5, speed // 2),
        # browsers share cookies between ports of one host: the drill's own
        # names keep a drill log-in from replacing the real console's
        "SESSION_COOKIE_NAME": "drill_session",
        "REMEMBER_COOKIE_NAME": "drill_remember_token",
    }


def write_clock(path, moment):
    """Set the drill clock (atomically: a reader never sees half a time)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(to_iso(moment))
    os.replace(tmp, path)


def copy_people_and_places(real_db_path, drill_db):
    """The real console's accounts (with their password hashes, so the team logs
    in as themselves) and branches, read from the real database, which is opened
    read-only and never written."""
    import sqlite3

    if not real_db_path or not os.path.isfile(real_db_path):
        return 0
    real = sqlite3.connect(f"file:{real_db_path}?mode=ro", uri=True)
    try:
        users = real.execute("SELECT id, username, display_name, role, scope_code, password_hash, active, created_at FROM user").fetchall()
        branches = real.execute("SELECT code, name, city_code, province_code FROM branch").fetchall()
    finally:
        real.close()
    with write(drill_db):
        drill_db.conn.executemany("INSERT OR IGNORE INTO branch (code, name, city_code, province_code) VALUES (?, ?, ?, ?)", branches)
        drill_db.conn.executemany(
            "INSERT OR IGNORE INTO user (id, username, display_name, role, scope_code, password_hash, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            users,
        )
    return len(users)


# --- running it --------------------------------------------------------------------------------


class Drill:
    """One run of a scenario on a drill database: ``start()`` begins it (a
    thread moves the clock and plays the events), ``wait()`` returns the report."""

    def __init__(self, app, scenario, speed=None, start_at=None, tick_seconds=0.1):
        self.app = app
        self.scenario = scenario
        self.speed = speed or scenario.speed
        self.clock_file = app.config["CLOCK_FILE"]
        self.start_at = (start_at or datetime.now(timezone.utc)).replace(microsecond=0)
        self.tick_seconds = tick_seconds
        self.run_id = None
        self.report = None
        self.error = None
        self._thread = None
        self._stop = threading.Event()
        self._rng = random.Random(scenario.id)
        self._spread = []  # complaints received later than their event's minute (spread_minutes)
        self._stored = 0

    # the drill minute now, by the real time passed since the start
    def minute(self):
        return (time.monotonic() - self._started) * self.speed / 60

    def start(self):
        from .db import connect

        write_clock(self.clock_file, self.start_at)
        self.db = connect(self.app.config["DATABASE"])
        with write(self.db):
            self.run_id = (
                self.db["drill_run"]
                .insert(
                    {
                        "scenario_id": self.scenario.id,
                        "title": self.scenario.title.zh,
                        "speed": self.speed,
                        "duration_minutes": self.scenario.duration_minutes,
                        "started_at": to_iso(self.start_at),
                        "real_started_at": to_iso(datetime.now(timezone.utc)),
                    }
                )
                .last_pk
            )
            for b in self.scenario.branches:
                from . import regions

                regions.add_branch(self.db, b.code, b.name, b.city_code)
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"drill-{self.scenario.id}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout=None):
        self._thread.join(timeout)
        return self.report

    def stop(self):
        self._stop.set()

    def _run(self):
        events = sorted(enumerate(self.scenario.events), key=lambda pair: (pair[1].at, pair[0]))
        pending = [e for _, e in events]
        silent_until = {}
        last_auto = {}
        latest = {}
        hourly = int(self.app.config.get("HOURLY_UPDATE_MINUTES", 60))
        try:
            with self.app.app_context():
                while not self._stop.is_set():
                    minute = min(self.minute(), self.scenario.duration_minutes)
                    now = self.start_at + timedelta(minutes=minute)
                    write_clock(self.clock_file, now)
                    while pending and pending[0].at <= minute:
                        event = pending.pop(0)
                        self._play(event, silent_until, latest)
                    try:
                        self._store_due()
                    except Exception as exc:  # noqa: BLE001 - logged, the drill goes on
                        self._log(minute, "complaints", f"{type(exc).__name__}: {getattr(exc, 'message', exc)}", ok=False)
                    for b in self.scenario.branches:
                        self._auto_update(b, minute, hourly, silent_until, last_auto, latest)
                    if minute >= self.scenario.duration_minutes:
                        break
                    time.sleep(self.tick_seconds)
                end = self.start_at + timedelta(minutes=min(self.minute(), self.scenario.duration_minutes))
                write_clock(self.clock_file, end)
                self.report = report(self.db, self.run_id, end)
                with write(self.db):
                    self.db["drill_run"].update(self.run_id, {"ended_at": to_iso(end), "report": json.dumps(self.report, ensure_ascii=False)})
        except Exception as exc:  # noqa: BLE001 - the drill says what broke, the console goes on
            log.exception("drill %s failed", self.scenario.id)
            self.error = exc

    def _log(self, minute, kind, detail, ok=True):
        with write(self.db):
            self.db["drill_event"].insert(
                {
                    "run_id": self.run_id,
                    "minute": round(minute, 2),
                    "at": to_iso(self.start_at + timedelta(minutes=minute)),
                    "kind": kind,
                    "detail": detail,
                    "ok": int(ok),
                }
            )

    def _incident_id(self):
        row = self.db.execute(f"SELECT id FROM incident WHERE {incident_status_sql(OPEN_INCIDENT_STATUSES)} ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    def _play(self, event, silent_until, latest):
        """One scenario event; a failure is logged in the drill's event log and the drill goes on."""
        kind = event.kind()
        item = getattr(event, kind)
        when = self.start_at + timedelta(minutes=event.at)
        try:
            if kind == "complaints":
                detail = self._complaints(item, event.at)
            elif kind == "silence":
                silent_until[item.branch] = event.at + item.minutes
                detail = f"{item.branch} silent for {item.minutes} min"
            else:
                latest[item.branch] = item
                detail = self._update(item, when)
            self._log(event.at, kind, (event.note + " " if event.note else "") + detail)
        except Exception as exc:  # noqa: BLE001
            log.warning("drill event at minute %s (%s) failed: %s", event.at, kind, exc)
            self._log(event.at, kind, f"{type(exc).__name__}: {getattr(exc, 'message', exc)}", ok=False)

    def _complaints(self, c, at):
        from . import schemas

        branch = self.db["branch"].get(c.branch)
        items = []
        for i in range(c.count):
            offset = c.spread_minutes * i / max(c.count, 1)
            items.append(
                schemas.ComplaintIn(
                    source=f"drill-{self.scenario.id}",
                    external_id=f"{self.run_id}-{len(self._spread) + self._stored + i}",
                    channel=c.channel,
                    product=c.product,
                    cause_code=c.cause_code,
                    province_code=branch["province_code"],
                    city_code=branch["city_code"],
                    branch_code=c.branch,
                    customer_name=self._name(),
                    customer_phone=f"1{self._rng.choice('3589')}{self._rng.randrange(10**9):09d}",
                    text=self._rng.choice(c.texts),
                    received_at=self.start_at + timedelta(minutes=at + offset),
                    severity=c.severity,
                )
            )
        # each arrival is stored when its minute comes (a time of receipt cannot lie in the future)
        self._spread.extend(items)
        self._store_due()
        return f"{c.count} complaints of {c.cause_code} at {c.branch}"

    def _name(self):
        from .demo import GIVEN, SURNAMES

        return self._rng.choice(SURNAMES) + self._rng.choice(self._rng.choice(list(GIVEN.values())))

    def _store_due(self):
        """Store the spread arrivals whose time has come (one intake call per tick)."""
        from . import intake

        now = self.start_at + timedelta(minutes=min(self.minute(), self.scenario.duration_minutes))
        due = [i for i in self._spread if i.received_at <= now]
        if not due:
            return
        self._spread = [i for i in self._spread if i.received_at > now]
        self._stored += len(due)
        intake.add_complaints(self.db, due, ACTOR, now, self.app.config)

    def _update(self, u, when):
        from . import schemas, updates
        from .access import SYSTEM
        from .live import publishing

        incident_id = self._incident_id()
        if incident_id is None:
            raise LookupError("no open incident yet: the update is not posted")
        data = schemas.HourlyUpdateIn(
            branch_code=u.branch,
            people_on_site=u.people_on_site,
            mood=u.mood,
            banners=u.banners,
            media_present=u.media_present,
            police_present=u.police_present,
            outlet_closed=u.outlet_closed,
            closed_since=when if u.outlet_closed else None,
            actions_taken=u.actions_taken,
            needs=u.needs,
        )
        with publishing(self.db) as outbox:
            updates.post_update(self.db, incident_id, data, Caller(SYSTEM, ACTOR, when), self.app.config, outbox)
        return f"{u.branch}: {u.people_on_site} on site ({u.mood})"

    def _auto_update(self, branch, minute, hourly, silent_until, last_auto, latest):
        """A reporting branch posts its update every HOURLY_UPDATE_MINUTES while an incident is open, unless silent."""
        if not branch.reports_hourly or minute < silent_until.get(branch.code, -1):
            return
        due = last_auto.get(branch.code, -hourly) + hourly
        if minute < due:
            return
        incident_id = self._incident_id()
        if incident_id is None:
            return
        status = self.db.execute("SELECT status FROM incident WHERE id = ?", [incident_id]).fetchone()[0]
        if status not in RESPONDING_INCIDENT_STATUSES:
            return
        last_auto[branch.code] = minute
        last = latest.get(branch.code) or Update(branch=branch.code, people_on_site=0)
        try:
            self._update(last, self.start_at + timedelta(minutes=minute))
        except Exception as exc:  # noqa: BLE001
            self._log(minute, "update", f"{branch.code}: {exc}", ok=False)


# --- the report --------------------------------------------------------------------------------


def _minutes(start, end):
    if not start or not end:
        return None
    return round((from_iso(end) - from_iso(start)).total_seconds() / 60, 1)


def report(db, run_id, now):
    """The drill report, read from the drill database (see the module docstring)."""
    run = dict(db["drill_run"].get(run_id))
    started = run["started_at"]
    first_complaint = db.execute("SELECT min(received_at) FROM intake_complaint").fetchone()[0]
    incidents = [dict(r) for r in db.query("SELECT id, title, status, opened_at, activated_at FROM incident ORDER BY id")]
    incident = incidents[0] if incidents else None
    out = {
        "scenario": run["scenario_id"],
        "title": run["title"],
        "speed": run["speed"],
        "started_at": started,
        "ended_at": to_iso(now),
        "minutes": _minutes(started, to_iso(now)),
        "first_complaint_at": first_complaint,
        "incident": None,
        "activation": None,
        "first_contact_by_group": [],
        "tasks": None,
        "missed_updates": {"count": 0, "by_branch": []},
        "never_done": [],
    }
    if incident is None:
        out["never_done"].append({"what": "incident", "detail": "no incident was opened"})
        return out
    iid = incident["id"]
    out["incident"] = {k: incident[k] for k in ("id", "title", "status", "opened_at", "activated_at")}
    out["activation"] = {
        "opened_after_first_complaint_minutes": _minutes(first_complaint, incident["opened_at"]),
        "activated_after_first_complaint_minutes": _minutes(first_complaint, incident["activated_at"]),
        "activated_after_opening_minutes": _minutes(incident["opened_at"], incident["activated_at"]),
    }
    groups = {r["id"]: r["name"] for r in db.query("SELECT id, name FROM complainant_group WHERE incident_id = ?", [iid])}
    for row in db.query(
        "SELECT group_id, count(*) AS people, sum(first_contact_at IS NOT NULL) AS contacted, min(received_at) AS first_received, "
        "min(first_contact_at) AS first_contact FROM complainant WHERE incident_id = ? GROUP BY group_id ORDER BY group_id IS NULL, group_id",
        [iid],
    ):
        waits = sorted(
            _minutes(r[0], r[1])
            for r in db.execute(
                "SELECT received_at, first_contact_at FROM complainant WHERE incident_id = ? AND group_id IS ? AND first_contact_at IS NOT NULL",
                [iid, row["group_id"]],
            ).fetchall()
        )
        out["first_contact_by_group"].append(
            {
                "group_id": row["group_id"],
                "group": groups.get(row["group_id"]),
                "people": row["people"],
                "contacted": row["contacted"] or 0,
                "first_contact_after_first_complaint_minutes": _minutes(row["first_received"], row["first_contact"]),
                "median_wait_minutes": waits[len(waits) // 2] if waits else None,
            }
        )
    tasks = [
        dict(r)
        for r in db.query("SELECT id, key, title, stream, owner_role, due_at, status, completed_at FROM task WHERE incident_id = ? ORDER BY due_at, id", [iid])
    ]
    n = to_iso(now)
    on_time = [t for t in tasks if t["status"] == "done" and t["completed_at"] <= t["due_at"]]
    late = [t for t in tasks if t["status"] == "done" and t["completed_at"] > t["due_at"]]
    overdue = [t for t in tasks if t["status"] != "done" and t["due_at"] <= n]
    out["tasks"] = {
        "total": len(tasks),
        "on_time": len(on_time),
        "late": len(late),
        "overdue_not_done": len(overdue),
        "open_not_yet_due": len(tasks) - len(on_time) - len(late) - len(overdue),
        "late_items": [{"key": t["key"], "title": t["title"], "late_minutes": _minutes(t["due_at"], t["completed_at"])} for t in late],
    }
    missed = [
        dict(r)
        for r in db.query(
            "SELECT branch_code, count(*) AS alerts FROM alert WHERE incident_id = ? AND kind = 'missed_update' GROUP BY branch_code ORDER BY branch_code",
            [iid],
        )
    ]
    out["missed_updates"] = {"count": sum(m["alerts"] for m in missed), "by_branch": missed}
    never = out["never_done"]
    if not incident["activated_at"]:
        never.append({"what": "activation", "detail": "the incident was never activated"})
    for t in overdue:
        never.append({"what": "task", "key": t["key"], "detail": t["title"], "due_at": t["due_at"]})
    not_contacted = db.execute("SELECT count(*) FROM complainant WHERE incident_id = ? AND first_contact_at IS NULL", [iid]).fetchone()[0]
    if not_contacted:
        never.append({"what": "first_contact", "detail": f"{not_contacted} complainant(s) never contacted", "count": not_contacted})
    unacknowledged = db.execute("SELECT count(*) FROM referral WHERE incident_id = ? AND acknowledged_at IS NULL AND ack_due_at <= ?", [iid, n]).fetchone()[0]
    if unacknowledged:
        never.append({"what": "referral_ack", "detail": f"{unacknowledged} referral(s) never acknowledged", "count": unacknowledged})
    return out


def format_report(r):
    """The report as text for the terminal (Chinese first, as the team reads it)."""
    lines = [f"演练报告 DRILL REPORT · {r['title']} ({r['scenario']}, ×{r['speed']}, {r['minutes']} min)"]
    if not r["incident"]:
        return "\n".join(lines + ["  未开立事件 / no incident was opened"])
    a = r["activation"]
    lines.append(f"  事件开立 opened: {a['opened_after_first_complaint_minutes']} min after the first complaint")
    lines.append(
        f"  启动应急 activated: {a['activated_after_first_complaint_minutes'] if a['activated_after_first_complaint_minutes'] is not None else '未启动 never'}"
        + (" min after the first complaint" if a["activated_after_first_complaint_minutes"] is not None else "")
    )
    for g in r["first_contact_by_group"]:
        lines.append(
            f"  首次联系 first contact · {g['group'] or '未分组 no group'}: {g['contacted']}/{g['people']} contacted; first after "
            f"{g['first_contact_after_first_complaint_minutes']} min; median wait {g['median_wait_minutes']} min"
        )
    t = r["tasks"]
    lines.append(
        f"  任务 tasks: {t['total']} · on time {t['on_time']} · late {t['late']} · overdue, not done {t['overdue_not_done']} · not yet due {t['open_not_yet_due']}"
    )
    lines.append(
        f"  漏报 missed updates: {r['missed_updates']['count']} " + ", ".join(f"{m['branch_code']} {m['alerts']}" for m in r["missed_updates"]["by_branch"])
    )
    lines.append("  从未完成 never done:")
    lines += [f"    - {n['what']}: {n['detail']}" for n in r["never_done"]] or ["    （无 none）"]
    return "\n".join(lines)


# --- starting a drill console ------------------------------------------------------------------

CURRENT = None  # the drill this process runs, for its /drills page


def prepare(scenario_path, real_db, drill_db=None, speed=None, start_at=None, extra_config=None):
    """A drill console's app on a new drill database (never ``real_db``, which
    is only read for the accounts and branches), and its Drill, not started.

    Returns (app, drill, copied accounts)."""
    from . import create_app
    from .db import connect

    global CURRENT
    scenario = load(scenario_path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(real_db).resolve().parent / "drills" if real_db else ROOT / "instance" / "drills"
    drill_db = Path(drill_db or folder / f"{scenario.id}-{stamp}.db").resolve()
    if real_db and drill_db == Path(real_db).resolve():
        raise ScenarioError("the drill database must not be the console's own database")
    if drill_db.exists():
        raise ScenarioError(f"{drill_db} exists already: a drill starts on a new database")
    drill_db.parent.mkdir(parents=True, exist_ok=True)
    clock_file = Path(f"{drill_db}.clock")
    start_at = (start_at or datetime.now(timezone.utc)).replace(microsecond=0)
    write_clock(clock_file, start_at)
    config = drill_config(scenario, drill_db, clock_file, speed or scenario.speed)
    app = create_app({**config, **(extra_config or {})})
    db = connect(str(drill_db))
    try:
        copied = copy_people_and_places(real_db, db)
    finally:
        db.close()
    CURRENT = Drill(app, scenario, speed=speed, start_at=start_at)
    return app, CURRENT, copied


def save_report(drill, path=None):
    """Write the drill report as JSON beside the drill database (or at ``path``); returns the path."""
    path = Path(path or f"{drill.app.config['DATABASE']}.report.json")
    path.write_text(json.dumps(drill.report, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def past_reports(real_db):
    """Reports of drills run beside this console's database (instance/drills/*.report.json), newest first."""
    folder = Path(real_db).resolve().parent / "drills"
    found = []
    for path in sorted(folder.glob("*.report.json"), reverse=True):
        try:
            found.append({"file": path.name, **json.loads(path.read_text(encoding="utf-8"))})
        except (OSError, ValueError):
            log.warning("unreadable drill report %s", path)
    return found


def latest_run(db):
    """(the latest drill run, its events in order) in a drill's database; ({}, []) before the first."""
    rows = list(db.query("SELECT * FROM drill_run ORDER BY id DESC LIMIT 1"))
    if not rows:
        return {}, []
    run = dict(rows[0])
    return run, [dict(r) for r in db.query("SELECT * FROM drill_event WHERE run_id = ? ORDER BY id", [run["id"]])]
