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
    # Counts by group x region x status read only this index (covering); lists
    # filtered by status (and group, province) use its prefix. One index less to
    # keep up during a bulk import.
    db.execute("CREATE INDEX complainant_counts ON complainant (incident_id, status, group_id, province_code)")
    db.execute("CREATE INDEX complainant_province ON complainant (incident_id, province_code)")
    db.execute("CREATE INDEX complainant_branch ON complainant (incident_id, branch_code)")
    db.execute("CREATE INDEX complainant_next_contact ON complainant (incident_id, next_contact_due_at)")
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


@migrations()
def m004_intake_updates_monitors(db):
    # Ordinary complaints arriving from existing complaint systems.
    db.execute(
        """
        CREATE TABLE intake_complaint (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL DEFAULT '',       -- the sending system
            external_id TEXT,                      -- its id there; (source, external_id) is unique
            channel TEXT NOT NULL,
            product TEXT NOT NULL,
            cause_code TEXT NOT NULL,
            province_code TEXT NOT NULL REFERENCES province(code),
            city_code TEXT REFERENCES city(code),
            branch_code TEXT REFERENCES branch(code),
            customer_name TEXT NOT NULL,
            customer_phone TEXT NOT NULL,
            customer_id_number TEXT,
            text TEXT NOT NULL DEFAULT '',
            received_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            incident_id INTEGER REFERENCES incident(id),
            complainant_id INTEGER REFERENCES complainant(id),
            UNIQUE (source, external_id)
        )"""
    )
    # The surge monitor reads windows of these two indexes only.
    db.execute("CREATE INDEX intake_cause_window ON intake_complaint (received_at, cause_code, province_code, branch_code)")
    db.execute("CREATE INDEX intake_product_window ON intake_complaint (received_at, product, province_code, branch_code)")
    # "complaints of this cause not yet in an incident, received since ...": one range each
    db.execute("CREATE INDEX intake_unattached ON intake_complaint (cause_code, incident_id, received_at)")
    db.execute("CREATE INDEX intake_unattached_product ON intake_complaint (product, incident_id, received_at)")
    db.execute("ALTER TABLE incident ADD COLUMN mass_incident_at TEXT")
    db.execute("ALTER TABLE incident ADD COLUMN activated_at TEXT")
    db.execute(
        """
        CREATE TABLE hourly_update (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            branch_code TEXT NOT NULL REFERENCES branch(code),
            province_code TEXT NOT NULL REFERENCES province(code),
            user_id INTEGER REFERENCES user(id),
            posted_at TEXT NOT NULL,
            people_on_site INTEGER NOT NULL,
            new_complainants INTEGER NOT NULL DEFAULT 0,
            settled_since INTEGER NOT NULL DEFAULT 0,
            mood TEXT NOT NULL,
            banners INTEGER NOT NULL DEFAULT 0,
            media_present INTEGER NOT NULL DEFAULT 0,
            police_present INTEGER NOT NULL DEFAULT 0,
            outlet_closed INTEGER NOT NULL DEFAULT 0,
            closed_since TEXT,
            actions_taken TEXT NOT NULL DEFAULT '',
            needs TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX hourly_update_branch ON hourly_update (incident_id, branch_code, posted_at)")
    # A retried POST with the same Idempotency-Key gets the first answer back.
    db.execute(
        """
        CREATE TABLE idempotency_key (
            user_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            route TEXT NOT NULL,
            request_sha256 TEXT NOT NULL,
            status INTEGER NOT NULL,
            response TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (user_id, key)
        )"""
    )
    # Everything the monitors raise. ``dedupe_key`` makes each alert exist once,
    # whichever process or run decides it first.
    db.execute(
        """
        CREATE TABLE alert (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            level TEXT NOT NULL,               -- info, warning, critical
            incident_id INTEGER REFERENCES incident(id),
            province_code TEXT,
            branch_code TEXT,
            audience TEXT NOT NULL,            -- JSON list of roles / 'branch:<code>'
            message TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            raised_at TEXT NOT NULL,
            acknowledged_at TEXT,
            acknowledged_by INTEGER REFERENCES user(id)
        )"""
    )
    db.execute("CREATE INDEX alert_incident ON alert (incident_id, raised_at)")
    # Timers already told about: (kind, subject, due time) is told once.
    db.execute(
        """
        CREATE TABLE timer_notice (
            kind TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            due_at TEXT NOT NULL,
            noticed_at TEXT NOT NULL,
            PRIMARY KEY (kind, subject_id, due_at)
        )"""
    )
    db.execute(
        """
        CREATE TABLE webhook_delivery (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL UNIQUE REFERENCES alert(id),
            url TEXT NOT NULL,
            body TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            delivered_at TEXT,
            failed_at TEXT,                    -- gave up
            last_error TEXT
        )"""
    )
    db.execute("CREATE INDEX webhook_pending ON webhook_delivery (delivered_at, failed_at, next_attempt_at)")
    db.execute(
        """
        CREATE TABLE webhook_attempt (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES webhook_delivery(id),
            at TEXT NOT NULL,
            status INTEGER,
            error TEXT
        )"""
    )
    # One run per monitor per period, whichever process takes the lease.
    db.execute(
        """
        CREATE TABLE monitor_run (
            monitor TEXT NOT NULL,
            period_start TEXT NOT NULL,
            holder TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            late INTEGER NOT NULL DEFAULT 0,
            result TEXT,
            PRIMARY KEY (monitor, period_start)
        )"""
    )


@migrations()
def m005_intake_daily_counts(db):
    # Which intake field an incident gathers complaints by: 'cause_code' (also
    # for incidents opened by hand) or 'product' (opened by a product surge).
    db.execute("ALTER TABLE incident ADD COLUMN intake_dimension TEXT NOT NULL DEFAULT 'cause_code'")
    # Complaints per UTC day, dimension and place: the surge rule's baseline
    # reads a few hundred of these instead of weeks of complaints.
    db.execute(
        """
        CREATE TABLE intake_daily (
            day TEXT NOT NULL,                 -- YYYY-MM-DD, UTC
            dimension TEXT NOT NULL,           -- cause_code or product
            value TEXT NOT NULL,
            place TEXT NOT NULL,               -- province_code or branch_code
            code TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (day, dimension, value, place, code)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """
        INSERT INTO intake_daily (day, dimension, value, place, code, count)
        SELECT substr(received_at, 1, 10), 'cause_code', cause_code, 'province_code', province_code, count(*) FROM intake_complaint GROUP BY 1, 3, 5
        UNION ALL
        SELECT substr(received_at, 1, 10), 'cause_code', cause_code, 'branch_code', branch_code, count(*) FROM intake_complaint WHERE branch_code IS NOT NULL GROUP BY 1, 3, 5
        UNION ALL
        SELECT substr(received_at, 1, 10), 'product', product, 'province_code', province_code, count(*) FROM intake_complaint GROUP BY 1, 3, 5
        UNION ALL
        SELECT substr(received_at, 1, 10), 'product', product, 'branch_code', branch_code, count(*) FROM intake_complaint WHERE branch_code IS NOT NULL GROUP BY 1, 3, 5
        """
    )


@migrations()
def m006_playbooks_tasks_documents(db):
    db.execute(
        """
        CREATE TABLE task (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            playbook TEXT NOT NULL,
            key TEXT NOT NULL,                 -- the playbook task's key
            trigger TEXT NOT NULL,             -- activation, crowd, daily, settlement, group
            trigger_ref TEXT NOT NULL DEFAULT '',  -- the day, settlement or group it was made for
            stream TEXT NOT NULL,
            title TEXT NOT NULL,
            owner_role TEXT NOT NULL,
            owner_user_id INTEGER REFERENCES user(id),
            due_at TEXT NOT NULL,
            depends_on TEXT NOT NULL DEFAULT '[]',  -- JSON list of task keys
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            checklist TEXT NOT NULL DEFAULT '[]',   -- JSON [{"text": ..., "done": bool}]
            notes TEXT NOT NULL DEFAULT '',
            referral_party TEXT,               -- regulator, consumer_association, media, police
            document_kind TEXT,                -- the document this task issues, if any
            completed_by INTEGER REFERENCES user(id),
            completed_at TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (incident_id, key, trigger_ref)
        )"""
    )
    db.execute("CREATE INDEX task_due ON task (incident_id, status, due_at)")
    db.execute(
        """
        CREATE TABLE task_attachment (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES task(id),
            filename TEXT NOT NULL,
            stored_path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            uploaded_by INTEGER REFERENCES user(id),
            uploaded_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE issued_document (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            kind TEXT NOT NULL,                -- regulator_report, consumer_association_packet, media_statement, review
            title TEXT NOT NULL,
            recipient TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            issued_by INTEGER REFERENCES user(id),
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            stored_path TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        )"""
    )
    # What was issued stays as issued: the database refuses to change or remove it.
    db.execute(
        "CREATE TRIGGER issued_document_no_update BEFORE UPDATE ON issued_document "
        "BEGIN SELECT RAISE(ABORT, 'an issued document cannot be changed; issue a new one'); END"
    )
    db.execute(
        "CREATE TRIGGER issued_document_no_delete BEFORE DELETE ON issued_document BEGIN SELECT RAISE(ABORT, 'an issued document cannot be removed'); END"
    )
    db.execute(
        """
        CREATE TABLE referral (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            task_id INTEGER REFERENCES task(id),
            party TEXT NOT NULL CHECK (party IN ('regulator', 'consumer_association', 'media', 'police')),
            recipient TEXT NOT NULL,           -- the office or outlet
            what_sent TEXT NOT NULL,
            document_id INTEGER REFERENCES issued_document(id),
            sent_at TEXT NOT NULL,
            sent_by INTEGER REFERENCES user(id),
            ack_due_at TEXT NOT NULL,
            acknowledged_by_name TEXT,         -- who at the other side confirmed
            acknowledged_at TEXT,
            recorded_by INTEGER REFERENCES user(id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE agreed_line (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            text TEXT NOT NULL,
            drafted_by INTEGER REFERENCES user(id),
            drafted_at TEXT NOT NULL,
            approved_by INTEGER REFERENCES user(id),   -- legal
            approved_at TEXT
        )"""
    )
    db.execute(
        """
        CREATE TABLE media_item (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            kind TEXT NOT NULL CHECK (kind IN ('inquiry', 'coverage')),
            outlet TEXT NOT NULL,
            summary TEXT NOT NULL,
            at TEXT NOT NULL,
            recorded_by INTEGER REFERENCES user(id)
        )"""
    )


@migrations()
def m007_rollups(db):
    db.execute(
        """
        CREATE TABLE rollup (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            number INTEGER NOT NULL,            -- 1, 2, 3 ... per incident
            report_type TEXT NOT NULL CHECK (report_type IN ('initial', 'update', 'final')),
            period_start TEXT NOT NULL,         -- the previous cut-off
            period_end TEXT NOT NULL,           -- this cut-off
            generated_at TEXT NOT NULL,
            late INTEGER NOT NULL DEFAULT 0,    -- made after its cut-off (the server was down)
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'issued')),
            prepared_by TEXT NOT NULL,          -- 'monitor' or a user name
            approved_by INTEGER REFERENCES user(id),
            approved_at TEXT,
            issued_by INTEGER REFERENCES user(id),
            issued_at TEXT,
            summary TEXT NOT NULL DEFAULT '',
            outlook TEXT NOT NULL DEFAULT '',
            needs TEXT NOT NULL DEFAULT '',
            corrects_id INTEGER REFERENCES rollup(id),
            next_rollup_at TEXT NOT NULL,
            content TEXT NOT NULL,              -- JSON: the numbers as they were at generated_at
            UNIQUE (incident_id, number)
        )"""
    )
    # One scheduled roll-up per incident and cut-off, whichever process makes it.
    db.execute("CREATE UNIQUE INDEX rollup_period ON rollup (incident_id, period_end) WHERE corrects_id IS NULL")
    # An issued roll-up is final: no change, no removal. The numbers never change at all.
    db.execute(
        "CREATE TRIGGER rollup_issued_is_final BEFORE UPDATE ON rollup WHEN OLD.status = 'issued' "
        "BEGIN SELECT RAISE(ABORT, 'an issued roll-up cannot be changed; make a correction'); END"
    )
    db.execute(
        "CREATE TRIGGER rollup_numbers_are_kept BEFORE UPDATE OF content, period_start, period_end, generated_at, number ON rollup "
        "BEGIN SELECT RAISE(ABORT, 'a roll-up keeps the numbers it was made with'); END"
    )
    db.execute("CREATE TRIGGER rollup_no_delete BEFORE DELETE ON rollup BEGIN SELECT RAISE(ABORT, 'roll-ups are kept'); END")


@migrations()
def m008_offers(db):
    # What the company offered a complainant and what was agreed, in fen (null: none yet).
    db.execute("ALTER TABLE complainant ADD COLUMN offered_fen INTEGER")
    db.execute("ALTER TABLE complainant ADD COLUMN agreed_fen INTEGER")


@migrations()
def m009_settlements(db):
    # Offers and agreed amounts move from the complainant row into settlement
    # records only the crisis lead and legal can read (issue: settlements).
    db.execute(
        """
        CREATE TABLE group_terms (
            group_id INTEGER PRIMARY KEY REFERENCES complainant_group(id),
            principal_pct INTEGER NOT NULL CHECK (principal_pct BETWEEN 0 AND 100),
            interest_pct INTEGER NOT NULL CHECK (interest_pct BETWEEN 0 AND 100),
            pays_expenses INTEGER NOT NULL CHECK (pays_expenses IN (0, 1)),
            text TEXT NOT NULL,
            version INTEGER NOT NULL,
            set_by INTEGER REFERENCES user(id),
            set_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE settlement_tier (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL REFERENCES complainant_group(id),
            name TEXT NOT NULL,
            starts_on TEXT NOT NULL,          -- local dates, both days included
            ends_on TEXT NOT NULL,
            award_fen INTEGER NOT NULL CHECK (award_fen >= 0),
            CHECK (ends_on >= starts_on)
        )"""
    )
    db.execute("CREATE INDEX settlement_tier_group ON settlement_tier (group_id, starts_on)")
    db.execute(
        """
        CREATE TABLE settlement_offer (
            id INTEGER PRIMARY KEY,
            complainant_id INTEGER NOT NULL REFERENCES complainant(id),
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            group_id INTEGER REFERENCES complainant_group(id),
            principal_fen INTEGER NOT NULL CHECK (principal_fen >= 0),
            interest_fen INTEGER NOT NULL CHECK (interest_fen >= 0),
            expenses_fen INTEGER NOT NULL CHECK (expenses_fen >= 0),
            expenses_evidence TEXT NOT NULL DEFAULT '',
            lawyer_fees_fen INTEGER NOT NULL DEFAULT 0 CHECK (lawyer_fees_fen >= 0),
            indirect_loss_fen INTEGER NOT NULL DEFAULT 0 CHECK (indirect_loss_fen >= 0),
            total_fen INTEGER NOT NULL,
            cap_fen INTEGER NOT NULL,
            differs_from_terms INTEGER NOT NULL,
            override_reason TEXT,
            override_by INTEGER REFERENCES user(id),
            note TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'superseded', 'withdrawn')),
            made_by INTEGER REFERENCES user(id),
            made_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX settlement_offer_complainant ON settlement_offer (complainant_id)")
    db.execute(
        """
        CREATE TABLE settlement (
            id INTEGER PRIMARY KEY,
            complainant_id INTEGER NOT NULL REFERENCES complainant(id),
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            group_id INTEGER REFERENCES complainant_group(id),
            offer_id INTEGER NOT NULL UNIQUE REFERENCES settlement_offer(id),
            accepted_on TEXT NOT NULL,
            accepted_at TEXT NOT NULL,
            tier_id INTEGER REFERENCES settlement_tier(id),
            tier_award_fen INTEGER NOT NULL DEFAULT 0,
            total_fen INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('accepted', 'final', 'withdrawn')),
            finalised_at TEXT,
            followup_due_at TEXT,
            created_by INTEGER REFERENCES user(id)
        )"""
    )
    # one live settlement per complainant: a second acceptance, however it races, is refused here
    db.execute("CREATE UNIQUE INDEX settlement_one_live ON settlement (complainant_id) WHERE status != 'withdrawn'")
    db.execute("CREATE INDEX settlement_incident ON settlement (incident_id, status)")
    db.execute(
        """
        CREATE TABLE confidentiality_agreement (
            id INTEGER PRIMARY KEY,
            settlement_id INTEGER NOT NULL UNIQUE REFERENCES settlement(id),
            parties TEXT NOT NULL,
            signed_on TEXT NOT NULL,
            liquidated_damages_fen INTEGER NOT NULL CHECK (liquidated_damages_fen >= 0),
            estimated_loss_fen INTEGER NOT NULL CHECK (estimated_loss_fen >= 0),
            damages_warning INTEGER NOT NULL,
            clause_version TEXT NOT NULL,
            document_name TEXT NOT NULL,
            document_path TEXT NOT NULL,
            document_sha256 TEXT NOT NULL,
            document_size INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            witness_reference TEXT NOT NULL,
            created_by INTEGER REFERENCES user(id),
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE agreement_breach (
            id INTEGER PRIMARY KEY,
            agreement_id INTEGER NOT NULL REFERENCES confidentiality_agreement(id),
            occurred_on TEXT NOT NULL,
            evidence TEXT NOT NULL,
            damages_claimed_fen INTEGER NOT NULL CHECK (damages_claimed_fen >= 0),
            recorded_by INTEGER REFERENCES user(id),
            recorded_at TEXT NOT NULL
        )"""
    )
    # Figures kept on complainants before this version become open offers, then the columns go.
    db.execute(
        "INSERT INTO settlement_offer (complainant_id, incident_id, group_id, principal_fen, interest_fen, expenses_fen, "
        "total_fen, cap_fen, differs_from_terms, note, status, made_at) "
        "SELECT id, incident_id, group_id, offered_fen, 0, 0, offered_fen, principal_fen + interest_claimed_fen, 1, "
        "'carried over from the complainant record', 'open', updated_at FROM complainant WHERE offered_fen IS NOT NULL"
    )
    db.execute("ALTER TABLE complainant DROP COLUMN offered_fen")
    db.execute("ALTER TABLE complainant DROP COLUMN agreed_fen")


@migrations()
def m010_audit_chain(db):
    # The audit log becomes a hash chain (console/audit.py): each entry holds
    # the hash of the one before and its own; audit_head keeps the newest, so
    # deleting the newest entries shows. Entries already written are chained
    # here, with the scheme as it was when this migration was written (frozen:
    # a later change to console/audit.py does not change what this did).
    import hashlib
    import json

    fields = ("id", "at", "user_id", "username", "route", "table_name", "row_id", "action", "before", "after")

    def chain_existing(db):
        prev_hash, last_id = "0" * 64, 0
        for values in db.execute("SELECT " + ", ".join(fields) + " FROM audit_log ORDER BY id").fetchall():
            payload = json.dumps([*values, prev_hash], ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
            db.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", [prev_hash, digest, values[0]])
            prev_hash, last_id = digest, values[0]
        db.execute("INSERT OR REPLACE INTO audit_head (id, last_id, hash) VALUES (1, ?, ?)", [last_id, prev_hash])

    db.execute("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT")
    db.execute("ALTER TABLE audit_log ADD COLUMN hash TEXT")
    db.execute(
        """
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_id INTEGER NOT NULL,       -- the newest audit_log entry
            hash TEXT NOT NULL              -- and its hash
        )"""
    )
    chain_existing(db)


@migrations()
def m011_login_throttle(db):
    # Failed log-ins per user name and per client address, and the lockouts
    # they caused (console/login_throttle.py): in the database so every
    # server process and a restart see the same counts.
    db.execute(
        """
        CREATE TABLE login_failure (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('username', 'address')),
            key TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX login_failure_key ON login_failure (kind, key, at)")
    db.execute("CREATE INDEX login_failure_at ON login_failure (at)")
    db.execute(
        """
        CREATE TABLE login_lockout (
            kind TEXT NOT NULL CHECK (kind IN ('username', 'address')),
            key TEXT NOT NULL,
            locked_at TEXT NOT NULL,
            locked_until TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        )"""
    )


@migrations()
def m012_monitor_health_and_complaint_clocks(db):
    # Monitors: a failed run is recorded as failed (and retried at the next
    # tick), and each item that failed inside a run is kept for the lead.
    db.execute("ALTER TABLE monitor_run ADD COLUMN failed_at TEXT")
    db.execute("ALTER TABLE monitor_run ADD COLUMN error TEXT")
    db.execute("ALTER TABLE monitor_run ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE monitor_failure (
            id INTEGER PRIMARY KEY,
            monitor TEXT NOT NULL,
            subject TEXT NOT NULL,             -- 'incident:12', 'cause:xyz', 'run'
            error TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX monitor_failure_at ON monitor_failure (monitor, at)")
    # Intake complaints that can no longer be attached are set aside, not retried forever.
    db.execute("ALTER TABLE intake_complaint ADD COLUMN quarantined_at TEXT")
    db.execute("ALTER TABLE intake_complaint ADD COLUMN quarantine_reason TEXT")
    db.execute("ALTER TABLE intake_complaint ADD COLUMN severity TEXT CHECK (severity IN ('light', 'medium', 'severe'))")
    db.execute("CREATE INDEX intake_quarantined ON intake_complaint (quarantined_at) WHERE quarantined_at IS NOT NULL")
    # Severity per complaint (seed 004), with its due times on the complainant.
    db.execute("ALTER TABLE complainant ADD COLUMN severity TEXT NOT NULL DEFAULT 'medium' CHECK (severity IN ('light', 'medium', 'severe'))")
    for column in ("first_response_due_at", "resolution_due_at", "supervisor_due_at", "supervisor_told_at"):
        db.execute(f"ALTER TABLE complainant ADD COLUMN {column} TEXT")
    db.execute("UPDATE complainant SET severity = (SELECT severity FROM incident WHERE incident.id = complainant.incident_id)")
    # The tiers as shipped when this migration was written (SEVERITY_TIMERS'
    # defaults), frozen here; later changes to the setting apply to new dues.
    tiers = {"light": (120, 1440, None), "medium": (60, 2880, None), "severe": (None, None, 30)}
    for severity, (first, resolution, supervisor) in tiers.items():
        for column, minutes in (("first_response_due_at", first), ("resolution_due_at", resolution), ("supervisor_due_at", supervisor)):
            if minutes is not None:
                db.execute(
                    f"UPDATE complainant SET {column} = strftime('%Y-%m-%dT%H:%M:%S+00:00', received_at, '+{minutes} minutes') WHERE severity = ?",
                    [severity],
                )
    db.execute("CREATE INDEX complainant_first_response ON complainant (incident_id, first_response_due_at) WHERE first_contact_at IS NULL")
    db.execute("CREATE INDEX complainant_resolution ON complainant (incident_id, resolution_due_at)")
    db.execute("CREATE INDEX complainant_supervisor ON complainant (incident_id, supervisor_due_at) WHERE supervisor_due_at IS NOT NULL")


@migrations()
def m013_directory_people_catalogue(db):
    # Going live (issue 13). Outlets stay in `branch` (every complainant,
    # update and alert already points there): they gain an address and an
    # active flag, since a closed outlet is deactivated, never deleted.
    # Head office, province branches and city branches are `org_unit` rows
    # keyed by their code (GB/T 2260 for provinces and cities); managers of
    # any unit are user names in `org_manager`, told when an outlet goes
    # silent or a crowd gathers.
    db.execute("ALTER TABLE branch ADD COLUMN address TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE branch ADD COLUMN active INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE branch ADD COLUMN deactivated_at TEXT")
    db.execute(
        """
        CREATE TABLE org_unit (
            code TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('head_office', 'province', 'city')),
            name TEXT NOT NULL,             -- as people read it: 河北省分行
            address TEXT NOT NULL DEFAULT '',
            province_code TEXT REFERENCES province(code),
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE org_manager (
            unit_code TEXT NOT NULL,        -- an org_unit or branch code
            username TEXT NOT NULL,
            PRIMARY KEY (unit_code, username)
        )"""
    )
    # Causes and products as a catalogue: a Chinese name, and the surge rule's
    # settings per cause. A NULL setting falls back to SURGE_RULES, so
    # existing configurations behave exactly as before.
    db.execute(
        """
        CREATE TABLE catalogue_entry (
            kind TEXT NOT NULL CHECK (kind IN ('cause', 'product')),
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            window_minutes INTEGER,
            threshold INTEGER,
            baseline_days INTEGER,
            baseline_factor REAL,
            baseline_min INTEGER,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (kind, code)
        )"""
    )
    # Amounts claimed may arrive with the complaint, so a surge-opened
    # incident's complainants start with them.
    for column in ("principal_fen", "interest_claimed_fen", "expenses_claimed_fen"):
        db.execute(f"ALTER TABLE intake_complaint ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")


@migrations()
def m014_access_that_ends(db):
    # Browser sessions as server-side records (console/sessions.py): a cookie
    # carries only a random key, whose hash is looked up on every request, so
    # logging out, deactivation, a password or role change and idle time end a
    # session at once. Tokens get a name, an expiry and their last use; tokens
    # issued before this migration expire 90 days after they were made.
    from datetime import timedelta

    from .clock import from_iso, to_iso

    db.execute(
        """
        CREATE TABLE user_session (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES user(id),
            key_sha256 TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            address TEXT,
            ended_at TEXT,
            ended_reason TEXT
        )"""
    )
    db.execute("CREATE INDEX user_session_user ON user_session (user_id, ended_at)")
    db.execute("ALTER TABLE user ADD COLUMN last_login_at TEXT")
    db.execute("ALTER TABLE user ADD COLUMN deactivated_at TEXT")
    db.execute("ALTER TABLE api_token ADD COLUMN name TEXT")
    db.execute("ALTER TABLE api_token ADD COLUMN expires_at TEXT")
    db.execute("ALTER TABLE api_token ADD COLUMN last_used_at TEXT")
    db.execute("ALTER TABLE api_token ADD COLUMN revoked_reason TEXT")
    for token_id, created_at in list(db.execute("SELECT id, created_at FROM api_token").fetchall()):
        db.execute(
            "UPDATE api_token SET name = ?, expires_at = ? WHERE id = ?",
            ["(unnamed)", to_iso(from_iso(created_at) + timedelta(days=90)), token_id],
        )


@migrations()
def m015_issued_document_rendering(db):
    # Issue 14: the copy of a document issued to an outside party is kept as
    # issued; executives download a second rendering built at the same moment
    # with small cells suppressed (console/disclosure.py). Kept the same way:
    # file under its sha256, row that cannot be changed or removed.
    db.execute(
        """
        CREATE TABLE issued_document_rendering (
            document_id INTEGER NOT NULL REFERENCES issued_document(id),
            audience TEXT NOT NULL CHECK (audience IN ('aggregate')),  -- 'aggregate': executives
            min_cell_people INTEGER NOT NULL,
            stored_path TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (document_id, audience)
        )"""
    )
    db.execute(
        "CREATE TRIGGER issued_document_rendering_no_update BEFORE UPDATE ON issued_document_rendering "
        "BEGIN SELECT RAISE(ABORT, 'an issued document cannot be changed; issue a new one'); END"
    )
    db.execute(
        "CREATE TRIGGER issued_document_rendering_no_delete BEFORE DELETE ON issued_document_rendering "
        "BEGIN SELECT RAISE(ABORT, 'an issued document cannot be removed'); END"
    )


@migrations()
def m016_branch_requests_handled(db):
    # What a branch asks head office for (an hourly update's "needs") is a
    # request the crisis lead marks handled: when, and by whom.
    db.execute("ALTER TABLE hourly_update ADD COLUMN needs_handled_at TEXT")
    db.execute("ALTER TABLE hourly_update ADD COLUMN needs_handled_by INTEGER REFERENCES user(id)")
    db.execute("CREATE INDEX hourly_update_open_needs ON hourly_update (incident_id, needs_handled_at)")


@migrations()
def m017_alert_channels(db):
    # Where alerts go besides the boards (console/channels/): WeCom, DingTalk
    # and Feishu robots, e-mail, signed webhooks. ``secret`` holds the
    # credentials as JSON; the API and pages only ever show them masked.
    # The lease is the channel's: one process at a time sends to a channel,
    # so its rate limit and "once per alert" hold across processes.
    db.execute(
        """
        CREATE TABLE channel (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'feishu', 'email', 'webhook')),
            config TEXT NOT NULL DEFAULT '{}',   -- JSON, no secrets
            secret TEXT NOT NULL DEFAULT '{}',   -- JSON of the credentials
            enabled INTEGER NOT NULL DEFAULT 1,
            failures INTEGER NOT NULL DEFAULT 0, -- consecutive failed sends
            retry_at TEXT,                       -- backing off until then
            lease_holder TEXT,
            lease_until TEXT,
            created_at TEXT NOT NULL,
            created_by INTEGER REFERENCES user(id),
            updated_at TEXT NOT NULL
        )"""
    )
    # Which alerts go to which channel: empty kinds/levels mean all; a scope
    # (province or branch code) limits the rule to alerts about that place.
    db.execute(
        """
        CREATE TABLE channel_rule (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
            kinds TEXT NOT NULL DEFAULT '[]',
            min_level TEXT NOT NULL DEFAULT 'info' CHECK (min_level IN ('info', 'warning', 'critical')),
            scope_kind TEXT CHECK (scope_kind IN ('province', 'branch')),
            scope_code TEXT,
            created_at TEXT NOT NULL,
            created_by INTEGER REFERENCES user(id)
        )"""
    )
    # The outbox: one row per (alert, channel), made in the alert's
    # transaction; test sends have no alert.
    db.execute(
        """
        CREATE TABLE channel_delivery (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
            alert_id INTEGER REFERENCES alert(id),
            test INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            attempt_id INTEGER,                  -- the attempt that delivered it
            delivered_at TEXT,
            failed_at TEXT,
            last_error TEXT,
            UNIQUE (alert_id, channel_id)
        )"""
    )
    db.execute("CREATE INDEX channel_delivery_pending ON channel_delivery (channel_id, delivered_at, failed_at, id)")
    # Every message sent (or tried): the rate limits are counted from here.
    db.execute(
        """
        CREATE TABLE channel_attempt (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            deliveries TEXT NOT NULL,            -- JSON list of channel_delivery ids in the message
            ok INTEGER NOT NULL,
            status INTEGER,                      -- HTTP status or SMTP reply code
            error TEXT,
            holder TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX channel_attempt_at ON channel_attempt (channel_id, at)")


@migrations()
def m018_identity_complaints_search(db):
    # Issue 17: one person, one record, across every channel.
    # Phone and ID number as keyed hashes (console/identity.py): arrivals are
    # matched through these, never by the clear number. Filled at start by
    # identity.rehash_if_needed (the key comes from SECRET_KEY, which a
    # migration does not know); identity_meta remembers which key made them.
    db.execute("ALTER TABLE complainant ADD COLUMN phone_hash INTEGER")
    db.execute("ALTER TABLE complainant ADD COLUMN id_hash INTEGER")
    db.execute("CREATE INDEX complainant_phone_hash ON complainant (phone_hash, incident_id)")
    db.execute("CREATE INDEX complainant_id_hash ON complainant (id_hash, incident_id) WHERE id_hash IS NOT NULL")
    db.execute("CREATE TABLE identity_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # Every arrival of a person: the first one made the complainant, each
    # later one (hotline, outlet, a transfer from 12378 or 12315, ...) is
    # another complaint of the same person. A transfer carries the
    # transferring body's reference and reply deadline. ``origin_complainant_id``
    # is the complainant the complaint first belonged to (a merge moves it, an
    # unmerge moves it back).
    db.execute(
        """
        CREATE TABLE complaint (
            id INTEGER PRIMARY KEY,
            complainant_id INTEGER NOT NULL REFERENCES complainant(id),
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            channel TEXT CHECK (channel IN ('hotline', 'outlet', 'account_manager', 'website', 'regulator_transfer',
                                            'consumer_association', 'media', 'court', 'petition')),
            received_at TEXT NOT NULL,
            reference TEXT,                      -- the arrival's own reference (ticket, form number)
            asked TEXT NOT NULL DEFAULT '',      -- what the person asked for
            transferring_body TEXT,              -- '12378', '12315', a court, a newspaper ...
            transfer_reference TEXT,
            reply_due_at TEXT,                   -- the transferring body's reply deadline
            decision_due_at TEXT NOT NULL,       -- Art. 18, from this complaint's receipt
            severity TEXT CHECK (severity IN ('light', 'medium', 'severe')),
            intake_complaint_id INTEGER,
            created_at TEXT NOT NULL,
            created_by INTEGER REFERENCES user(id)
        )"""
    )
    db.execute("CREATE INDEX complaint_complainant ON complaint (complainant_id, received_at)")
    db.execute("CREATE INDEX complaint_transfer_reference ON complaint (transfer_reference, incident_id) WHERE transfer_reference IS NOT NULL")
    db.execute("CREATE INDEX complaint_reference ON complaint (reference, incident_id) WHERE reference IS NOT NULL")
    # Each complainant so far arrived once: that arrival becomes their first complaint.
    db.execute(
        "INSERT INTO complaint (complainant_id, incident_id, channel, received_at, asked, decision_due_at, severity, created_at) "
        "SELECT id, incident_id, NULL, received_at, demands, decision_due_at, severity, created_at FROM complainant ORDER BY id"
    )
    # Merges by the team, undone by the team: what moved, to move it back.
    db.execute(
        """
        CREATE TABLE complainant_merge (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            kept_id INTEGER NOT NULL REFERENCES complainant(id),
            merged_id INTEGER NOT NULL,          -- its row is removed while merged, kept here
            merged_row TEXT NOT NULL,            -- JSON: the merged complainant as it was
            kept_before TEXT NOT NULL,           -- JSON: the kept complainant's fields the merge changed
            moved TEXT NOT NULL,                 -- JSON: {table: [rows moved]}
            reason TEXT NOT NULL,
            merged_at TEXT NOT NULL,
            merged_by INTEGER REFERENCES user(id),
            undone_at TEXT,
            undone_by INTEGER REFERENCES user(id)
        )"""
    )
    db.execute("CREATE INDEX complainant_merge_kept ON complainant_merge (kept_id)")
    # Possible matches the team looked at and said are different people.
    db.execute(
        """
        CREATE TABLE complainant_not_same (
            low_id INTEGER NOT NULL,
            high_id INTEGER NOT NULL,
            decided_at TEXT NOT NULL,
            decided_by INTEGER REFERENCES user(id),
            PRIMARY KEY (low_id, high_id)
        )"""
    )
    # Search by name or part of one: FTS5 with the trigram tokenizer (any
    # three characters, Chinese included); shorter text uses the name index
    # below (a prefix: a surname, a given name's start).
    db.execute("CREATE VIRTUAL TABLE complainant_name USING fts5 (name, content='complainant', content_rowid='id', tokenize='trigram')")
    db.execute("INSERT INTO complainant_name (rowid, name) SELECT id, name FROM complainant")
    db.execute("CREATE INDEX complainant_incident_name ON complainant (incident_id, name)")
    # Risk flags as rows, indexed: the JSON list stays the record, triggers keep this in step.
    db.execute(
        """
        CREATE TABLE complainant_flag (
            incident_id INTEGER NOT NULL,
            flag TEXT NOT NULL,
            complainant_id INTEGER NOT NULL,
            PRIMARY KEY (incident_id, flag, complainant_id)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX complainant_flag_complainant ON complainant_flag (complainant_id)")
    db.execute("INSERT OR IGNORE INTO complainant_flag SELECT c.incident_id, j.value, c.id FROM complainant c, json_each(c.flags) j")
    # Keyset pagination and the deep-page scan read (incident_id, id) only.
    db.execute("CREATE INDEX complainant_incident_id ON complainant (incident_id, id)")
    # No AFTER INSERT trigger: a row trigger doubled the cost of a 10,000-row
    # import; complainants.create_arrivals (and merges.unmerge) fill the name
    # index and the flag rows for their new ids in one statement each
    # (console/search_index.py). Changes and deletions are kept in step here.
    db.execute(
        """CREATE TRIGGER complainant_ad AFTER DELETE ON complainant BEGIN
            INSERT INTO complainant_name (complainant_name, rowid, name) VALUES ('delete', old.id, old.name);
            DELETE FROM complainant_flag WHERE complainant_id = old.id;
        END"""
    )
    db.execute(
        """CREATE TRIGGER complainant_au_name AFTER UPDATE OF name ON complainant BEGIN
            INSERT INTO complainant_name (complainant_name, rowid, name) VALUES ('delete', old.id, old.name);
            INSERT INTO complainant_name (rowid, name) VALUES (new.id, new.name);
        END"""
    )
    db.execute(
        """CREATE TRIGGER complainant_au_flags AFTER UPDATE OF flags, incident_id ON complainant BEGIN
            DELETE FROM complainant_flag WHERE complainant_id = old.id;
            INSERT OR IGNORE INTO complainant_flag SELECT new.incident_id, value, new.id FROM json_each(new.flags);
        END"""
    )


@migrations()
def m019_forecast_and_drills(db):
    # The early-warning forecast counts an incident's arrivals per 3-hour bin
    # over the last 8 days (console/forecast.py): one range of this index.
    db.execute("CREATE INDEX complainant_received ON complainant (incident_id, received_at)")
    # Drills (console/drills.py): only ever written in a drill database; a real
    # console's stay empty (tests/test_drills.py checks).
    db.execute(
        """
        CREATE TABLE drill_run (
            id INTEGER PRIMARY KEY,
            scenario_id TEXT NOT NULL,
            title TEXT NOT NULL,
            speed INTEGER NOT NULL,
            duration_minutes INTEGER NOT NULL,
            started_at TEXT NOT NULL,            -- drill time
            real_started_at TEXT NOT NULL,
            ended_at TEXT,                       -- drill time
            report TEXT                          -- JSON, written at the end
        )"""
    )
    db.execute(
        """
        CREATE TABLE drill_event (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES drill_run(id),
            minute REAL NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL,
            ok INTEGER NOT NULL DEFAULT 1
        )"""
    )


@migrations()
def m020_cause_severity(db):
    # A cause's default severity (seed 004): a complaint that arrives without
    # one takes its cause's, then its incident's.
    db.execute("ALTER TABLE catalogue_entry ADD COLUMN severity TEXT CHECK (severity IN ('light', 'medium', 'severe'))")


# The tokens of a name for one- and two-character search: the two characters
# starting at each position (the last position gives its one character); the
# first four positions written out (most names are 2-3 characters: no subquery).
# The same SQL is the index's text (a view), fills it (search_index.index_new)
# and feeds its deletes (the triggers below), so all three always agree.
NAME_GRAMS = (
    "(substr({name}, 1, 2) || ' ' || substr({name}, 2, 2) || ' ' || substr({name}, 3, 2) || ' ' || substr({name}, 4, 2) || "
    "CASE WHEN length({name}) > 4 THEN ' ' || (SELECT group_concat(substr({name}, n, 2), ' ') FROM name_gram_position "
    "WHERE n BETWEEN 5 AND length({name})) ELSE '' END)"
)


@migrations()
def m021_short_name_search(db):
    # Issue 17: Chinese names are mostly two or three characters, so a search
    # of one or two (a surname, a given name) must be as fast as a longer one;
    # the trigram index (m018) needs three. complainant_name_gram holds each
    # name's two-character pieces (张伟明: 张伟 伟明 明) as words: a two-character
    # search is one word, a one-character search a prefix (王*). Its text is a
    # view of the names (nothing stored twice; the table can still be read
    # whole, as backups and tests do), no positions, no sizes: only the word
    # index is written, which costs an import less than the (incident_id, name)
    # index it replaces (that index was scanned whole by LIKE '%..%': 15-40 ms
    # at 100,000 complainants).
    db.execute("CREATE TABLE name_gram_position (n INTEGER PRIMARY KEY)")
    db.execute("INSERT INTO name_gram_position (n) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200) SELECT n FROM s")
    db.execute(f"CREATE VIEW complainant_name_grams AS SELECT c.id AS id, {NAME_GRAMS.format(name='c.name')} AS grams FROM complainant c")
    db.execute(
        "CREATE VIRTUAL TABLE complainant_name_gram USING fts5 (grams, content='complainant_name_grams', content_rowid='id', "
        "detail='none', columnsize=0, tokenize='unicode61')"
    )
    db.execute("INSERT INTO complainant_name_gram (complainant_name_gram) VALUES ('rebuild')")
    # New complainants are indexed in bulk by search_index.index_new (no row
    # trigger on insert, as in m018); changes and deletions here.
    old_grams = NAME_GRAMS.format(name="old.name")
    db.execute(
        f"""CREATE TRIGGER complainant_ad_gram AFTER DELETE ON complainant BEGIN
            INSERT INTO complainant_name_gram (complainant_name_gram, rowid, grams) VALUES ('delete', old.id, {old_grams});
        END"""
    )
    db.execute(
        f"""CREATE TRIGGER complainant_au_name_gram AFTER UPDATE OF name ON complainant BEGIN
            INSERT INTO complainant_name_gram (complainant_name_gram, rowid, grams) VALUES ('delete', old.id, {old_grams});
            INSERT INTO complainant_name_gram (rowid, grams) VALUES (new.id, {NAME_GRAMS.format(name="new.name")});
        END"""
    )
    # Its only readers were the LIKE scan above and possible matches (same
    # name at the same outlet), which now narrow by the first two characters' word.
    db.execute("DROP INDEX complainant_incident_name")


@migrations()
def m022_one_name_index(db):
    # Issue 17: names of any length are found through the two-character pieces
    # of m021 (a search of three characters or more asks for each of its pieces
    # and the name confirms the hit), as fast as the trigram index of m018 was
    # (bench/bench_identity.py), which every import paid for twice over: the
    # trigram table goes, with its triggers (the flag rows' delete stays).
    db.execute("DROP TRIGGER complainant_au_name")
    db.execute("DROP TRIGGER complainant_ad")
    db.execute(
        """CREATE TRIGGER complainant_ad AFTER DELETE ON complainant BEGIN
            DELETE FROM complainant_flag WHERE complainant_id = old.id;
        END"""
    )
    db.execute("DROP TABLE complainant_name")


@migrations()
def m023_rehash_0086_phones(db):
    # Bulk imports before this hashed a phone written 0086138... with its 0086
    # (identity.arrival_hashes skipped normal_phone for all-digit numbers), so
    # such a person was never matched or found by number: their hashes are
    # cleared here and made again, right, by identity.rehash_if_needed at start
    # (the key comes from SECRET_KEY, which migrations do not see).
    db.execute("UPDATE complainant SET phone_hash = NULL WHERE phone LIKE '0086%'")
