"""The schema, as migrations in code. Each applied one is recorded in
``_sqlite_migrations``; never edit an applied migration, add a new one."""

import csv
from pathlib import Path

from sqlite_utils.migrations import Migrations

DATA = Path(__file__).parent / "data"

migrations = Migrations("console")


def migrate(db):
    """Apply every pending migration; safe to call on every start."""
    migrations.apply(db)


def schema_version(db):
    """The names of the applied migrations, oldest first."""
    return [m.name for m in migrations.applied(db)]


def _read_csv(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@migrations()
def m001_regions_and_people(db):
    db.execute(
        """
        CREATE TABLE province (
            code TEXT PRIMARY KEY,          -- GB/T 2260, six digits
            name_zh TEXT NOT NULL,
            name_en TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE city (
            code TEXT PRIMARY KEY,
            province_code TEXT NOT NULL REFERENCES province(code),
            name_zh TEXT NOT NULL,
            name_en TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE branch (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            city_code TEXT NOT NULL REFERENCES city(code),
            province_code TEXT NOT NULL REFERENCES province(code)
        )"""
    )
    db["province"].insert_all(_read_csv("provinces.csv"))
    db["city"].insert_all(_read_csv("cities.csv"))
    db.execute(
        """
        CREATE TABLE user (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('lead','team','branch','executive','legal')),
            scope_code TEXT,                -- a province or branch code, for role 'branch'
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            CHECK ((role = 'branch') = (scope_code IS NOT NULL))
        )"""
    )
    db.execute(
        """
        CREATE TABLE api_token (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES user(id),
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )"""
    )


@migrations()
def m002_incidents_and_complainants(db):
    db.execute(
        """
        CREATE TABLE incident (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            cause TEXT NOT NULL,
            product TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('light','medium','severe')),
            status TEXT NOT NULL CHECK (status IN ('monitoring','active','stood_down','closed')),
            playbook TEXT,
            opened_at TEXT NOT NULL,
            closed_at TEXT,
            created_by INTEGER REFERENCES user(id),
            updated_at TEXT NOT NULL,
            demo_key TEXT UNIQUE            -- set only on demo data, so loading it twice adds nothing
        )"""
    )
    db.execute(
        """
        CREATE TABLE complainant_group (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            name TEXT NOT NULL,
            handling_line TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE (incident_id, name)
        )"""
    )
    db.execute(
        """
        CREATE TABLE complainant (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            group_id INTEGER REFERENCES complainant_group(id),
            name TEXT NOT NULL,
            phone TEXT NOT NULL,
            id_number TEXT,
            province_code TEXT NOT NULL REFERENCES province(code),
            city_code TEXT REFERENCES city(code),
            branch_code TEXT REFERENCES branch(code),
            status TEXT NOT NULL DEFAULT 'new',
            escalation_channel TEXT,
            temperament TEXT,
            motive TEXT,
            flags TEXT NOT NULL DEFAULT '[]',   -- JSON list of risk flags
            principal_fen INTEGER NOT NULL DEFAULT 0,
            interest_claimed_fen INTEGER NOT NULL DEFAULT 0,
            expenses_claimed_fen INTEGER NOT NULL DEFAULT 0,
            demands TEXT NOT NULL DEFAULT '',
            handler_id INTEGER REFERENCES user(id),
            received_at TEXT NOT NULL,
            decision_due_at TEXT NOT NULL,
            extension_level INTEGER NOT NULL DEFAULT 0,
            next_contact_due_at TEXT,
            first_contact_at TEXT,
            settled_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            CHECK ((status = 'escalated') = (escalation_channel IS NOT NULL))
        )"""
    )
    # Counts by group x region x status read only this index (covering).
    db.execute("CREATE INDEX complainant_counts ON complainant (incident_id, group_id, province_code, status)")
    db.execute("CREATE INDEX complainant_status ON complainant (incident_id, status)")
    db.execute("CREATE INDEX complainant_province ON complainant (incident_id, province_code)")
    db.execute("CREATE INDEX complainant_branch ON complainant (incident_id, branch_code)")
    db.execute("CREATE INDEX complainant_next_contact ON complainant (incident_id, next_contact_due_at)")
    db.execute("CREATE INDEX complainant_phone ON complainant (phone)")
    db.execute(
        """
        CREATE TABLE group_representative (
            group_id INTEGER NOT NULL REFERENCES complainant_group(id),
            complainant_id INTEGER NOT NULL REFERENCES complainant(id),
            PRIMARY KEY (group_id, complainant_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE deadline_extension (
            id INTEGER PRIMARY KEY,
            complainant_id INTEGER NOT NULL REFERENCES complainant(id),
            level INTEGER NOT NULL CHECK (level IN (1, 2)),
            reason TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            complainant_notified_at TEXT NOT NULL,
            new_due_at TEXT NOT NULL,
            created_by INTEGER REFERENCES user(id),
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE contact (
            id INTEGER PRIMARY KEY,
            complainant_id INTEGER NOT NULL REFERENCES complainant(id),
            contacted_at TEXT NOT NULL,
            user_id INTEGER REFERENCES user(id),
            channel TEXT NOT NULL,
            said TEXT NOT NULL,
            promised TEXT NOT NULL DEFAULT '',
            next_contact_due_at TEXT,
            notice_proof TEXT NOT NULL DEFAULT 'none',
            proof_reference TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX contact_complainant ON contact (complainant_id, contacted_at)")
    db.execute(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER,
            username TEXT,
            route TEXT,                     -- 'POST /api/v1/complainants' or 'cli demo'
            table_name TEXT NOT NULL,
            row_id INTEGER,
            action TEXT NOT NULL,           -- create, update, delete, reveal, login ...
            before TEXT,                    -- JSON
            after TEXT                      -- JSON
        )"""
    )
    db.execute("CREATE INDEX audit_row ON audit_log (table_name, row_id)")


@migrations()
def m003_live_events(db):
    # One row per event per room: each room has its own gap-free sequence, so a
    # branch contact's board sees every number of its own stream and nothing of
    # another region's. Written in the same transaction as the change it reports.
    db.execute(
        """
        CREATE TABLE live_event (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            room TEXT NOT NULL,
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            at TEXT NOT NULL,
            payload TEXT NOT NULL,          -- JSON, exactly as emitted
            UNIQUE (room, seq)
        )"""
    )
