"""Every setting the console reads, with its default and what it is for.

One table, as in datasette's SETTINGS: a test fails when a setting here is not
documented in README.md. Values come, in order, from these defaults, the
instance folder's ``config.py``, ``CONSOLE_*`` environment variables, then the
``config`` mapping passed to ``create_app`` (tests).

Figures taken from the regulation digest (shared DOMAIN.md) are defaults only:
rules differ by province and year, so an administrator can change every one.
"""

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = [
    Setting("DATABASE", "console.db", "Path of the SQLite file (relative paths are inside the instance folder). Also --db or CONSOLE_DB."),
    Setting("SECRET_KEY", None, "Signs session cookies and CSRF tokens. When unset, one is made on first start in instance/secret_key (mode 0600) and kept."),
    Setting("TIMEZONE", "Asia/Shanghai", "Time zone in which times are shown and days are counted; storage is always UTC."),
    Setting("DEFAULT_LOCALE", "zh_CN", "Interface language when the browser asks for none we have (zh_CN or en)."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 10000, "How long a writer waits for a lock before failing."),
    Setting("DECISION_DAYS", 15, "Days from receipt to decide and tell the complainant (CBIRC 2020 No. 3, Art. 18)."),
    Setting("EXTENSION_1_TOTAL_DAYS", 30, "A complex case may be extended to this many days from receipt (Art. 18)."),
    Setting("EXTENSION_2_EXTRA_DAYS", 30, "A very complex case may be extended by this many more days, with senior approval and notice (Art. 18)."),
    Setting("MAX_REPRESENTATIVES", 5, "Representatives a group of joint complainants may choose (Art. 12)."),
    Setting("HOURLY_UPDATE_MINUTES", 60, "Branches with open complainants in an active incident post an update this often."),
    Setting("HOURLY_UPDATE_GRACE_MINUTES", 10, "Grace after the hour before a branch counts as silent and its contact is nudged."),
    Setting("GROUP_VISIT_PEOPLE", 3, "People arriving together that make a group visit: call the complaint staff, open a reception room (seed 003)."),
    Setting("MAJOR_COMPLAINANTS_IN_PERSON", 20, "Complainants in person that make a major consumer complaint (Art. 29)."),
    Setting("CROWD_PEOPLE", 100, "People at one outlet that make a reportable gathering: the incident becomes a mass incident (Guangdong rule)."),
    Setting("OUTLET_CLOSED_HOURS_ONE", 4, "One outlet closed or blocked this long makes a mass incident (reportable)."),
    Setting("OUTLET_CLOSED_HOURS_TWO", 2, "Two outlets closed or blocked this long make a mass incident (reportable)."),
    Setting(
        "SURGE_RULES",
        {"*": {"window_minutes": 1440, "threshold": 20, "baseline_days": 28, "baseline_factor": 3.0, "baseline_min": 5}},
        "Surge detection per cause code ('*' for every cause not listed): see README 'The surge rule'.",
    ),
    Setting(
        "SEVERITY_TIMERS",
        {
            "light": {"first_response_minutes": 120, "resolution_minutes": 1440},
            "medium": {"first_response_minutes": 60, "resolution_minutes": 2880},
            "severe": {"supervisor_minutes": 30},
        },
        "Severity tiers (seed 004): light 2 h / 24 h, medium 1 h / 48 h, severe: supervisor told within 30 min.",
    ),
    Setting(
        "WEBHOOK_URL",
        None,
        "Every alert is also POSTed here as signed JSON (WEBHOOK_SECRET): an implicit webhook channel. For WeCom, DingTalk, Feishu or e-mail add a channel on /channels.",
    ),
    Setting("WEBHOOK_SECRET", None, "HMAC-SHA256 key for the X-Console-Signature header of webhook posts."),
    Setting("WEBHOOK_MAX_ATTEMPTS", 8, "Attempts per webhook delivery before it is marked failed."),
    Setting("WEBHOOK_BACKOFF_SECONDS", 30, "Wait after the first failed attempt; doubles with each further failure."),
    Setting(
        "PUBLIC_URL", "http://localhost:5000", "The console's address as people reach it: alert messages in WeCom, DingTalk, Feishu and e-mail link back to it."
    ),
    Setting("WECOM_WEBHOOK_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "WeCom group robots' send address (the robot's key is added as ?key=)."),
    Setting(
        "DINGTALK_WEBHOOK_URL", "https://oapi.dingtalk.com/robot/send", "DingTalk custom robots' send address (access_token, timestamp and sign are added)."
    ),
    Setting("FEISHU_WEBHOOK_URL", "https://open.feishu.cn/open-apis/bot/v2/hook/", "Feishu custom bots' address; the bot's hook id is appended."),
    Setting("SMTP_CA_FILE", None, "PEM file of the certificate authorities trusted for SMTP over TLS; none: the system's."),
    Setting("CHANNEL_MAX_ATTEMPTS", 12, "Messages an alert may be part of on a channel before its delivery there is marked failed."),
    Setting("CHANNEL_BACKOFF_SECONDS", 30, "Wait after a channel's first failed send; doubles with each further failure, up to CHANNEL_BACKOFF_MAX_SECONDS."),
    Setting("CHANNEL_BACKOFF_MAX_SECONDS", 600, "Longest wait between tries of a channel that keeps failing."),
    Setting("CHANNEL_TIMEOUT_SECONDS", 10, "How long one send to a channel (HTTP or SMTP) may take."),
    Setting("MONITOR_LEASE_SECONDS", 300, "A monitor run not finished after this long is taken over by another process (it crashed)."),
    Setting("SCHEDULER", "on", "'on': run.py runs the monitors in this process; 'off' for extra web-only processes."),
    Setting("MONITOR_TICK_SECONDS", 0, "How often the scheduler wakes each monitor; 0: once per monitor period. Runs stay once per period whatever this is."),
    Setting(
        "RECEIPT_SKEW_MINUTES", 5, "How far in the future a time of receipt or contact may lie (clocks of other systems drift); beyond it the time is refused."
    ),
    Setting(
        "CLOCK_FILE",
        None,
        "For drills and tests only: the whole console (pages, API, monitors, documents, boards) reads the current time (ISO-8601) from this file.",
    ),
    Setting(
        "DRILL",
        False,
        "This console runs a drill (python run.py drill): every page and document is marked 演练 (DRILL), and no alert reaches WEBHOOK_URL or any channel.",
    ),
    Setting("FORECAST_REFRESH_MS", 5000, "How often the board's early-warning panel refetches the forecast (it is refitted only when complainants arrive)."),
    Setting(
        "BACKUP_EVERY_MINUTES", 0, "Scheduled backups: the backup monitor takes one this often (minutes); 0 turns them off. See README 'Backups and restore'."
    ),
    Setting("BACKUP_FOLDER", "backups", "Where scheduled backups are written (relative to the instance folder)."),
    Setting("BACKUP_KEEP", 24, "Scheduled backups kept: after each new one the oldest beyond this many are deleted; 0 keeps all."),
    Setting("DEFAULT_PLAYBOOK", "mass_complaint", "The playbook an incident opened by the surge monitor runs (a file in playbooks/)."),
    Setting("REFERRAL_ACK_HOURS", 24, "An outside party's acknowledgement is overdue this long after sending."),
    Setting("ORGANISATION_NAME", "（报送单位）", "The reporting unit named in documents for the regulator and the consumer association."),
    Setting(
        "MIN_CELL_PEOPLE",
        3,
        "Small-cell suppression: an amount shown to executives (any amount) or to a role without settlement rights (settlement amounts) must sum at least this many people; a smaller cell shows its count and '—' (PIPL Art. 73). The copy issued to the regulator is not suppressed.",
    ),
    Setting("DOCUMENT_FOLDER", "documents", "Where issued documents and task attachments are kept (relative to the instance folder)."),
    Setting("ROLLUP_TIME", "18:00", "Local time (TIMEZONE) of the daily roll-up's cut-off: each roll-up covers cut-off to cut-off."),
    Setting("SETTLEMENT_FOLLOWUP_DAYS", 7, "Finalising a settlement schedules the follow-up call this many days later (seed 004: within a week)."),
    Setting(
        "LIQUIDATED_DAMAGES_WARN_PCT",
        30,
        "Warn when an agreement's liquidated damages exceed the estimated loss by more than this share: a court may reduce them (SPC 2023 interpretation, Art. 65).",
    ),
    Setting("ROLLUP_LATE_MINUTES", 15, "A roll-up made this long after its cut-off is marked late (the server was down)."),
    Setting("PAGE_SIZE", 50, "Rows per page in the HTML complainant list (the API takes per_page up to 500)."),
    Setting("MAX_BULK", 10000, "Most complainants accepted in one API call."),
    Setting(
        "SERVER_SWITCH_INTERVAL_MS",
        20,
        "Python's thread switch interval in the serving process. Each websocket has its own threads; "
        "at Python's default 5 ms a broadcast to 500 boards is handed round hundreds of threads before it finishes; at 20 ms bench/bench_live.py measured ~60 instead of ~90 ms of server CPU per broadcast.",
    ),
    Setting("SOCKETIO_MESSAGE_QUEUE", None, "A redis:// URL: several server processes (and monitors in other processes) then share the live board's rooms."),
    Setting("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, "Largest request body or uploaded file."),
    Setting(
        "HTTPS",
        False,
        "Served over HTTPS (directly or behind a proxy): session cookies get the Secure flag and responses "
        "Strict-Transport-Security. Off by default so http://localhost works.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "Reverse proxies in front of the console (1 behind nginx): their X-Forwarded-For/-Proto/-Host "
        "headers are believed, so the login limit counts the client's address. 0: none are believed.",
    ),
    Setting("LOGIN_MAX_FAILURES", 5, "Failed log-ins for one user name within LOGIN_FAILURE_WINDOW_MINUTES that lock it."),
    Setting("LOGIN_MAX_FAILURES_PER_ADDRESS", 20, "Failed log-ins (and invalid API tokens) from one client address within the window that lock that address."),
    Setting("LOGIN_FAILURE_WINDOW_MINUTES", 15, "The window in which failed log-ins are counted."),
    Setting("LOGIN_LOCKOUT_MINUTES", 15, "How long a locked user name or address is refused (429)."),
    Setting(
        "SESSION_IDLE_MINUTES",
        30,
        "A browser session not used for this long ends: the next page asks to log in again and its board is "
        "disconnected. Only requests and board joins count as use, not an open board by itself.",
    ),
    Setting("TOKEN_DAYS", 90, "An API token expires this many days after it was issued (run.py token NAME --days overrides it for one token)."),
    Setting(
        "LIVE_ACCESS_CHECK_SECONDS",
        2,
        "How often each server process checks its open boards' sessions and tokens and drops those that "
        "ended (logged out, revoked, deactivated, idle) in another process; the process that ends an access drops them at once.",
    ),
    Setting("SIGNING_OFFICER", None, "The signing officer (签发人) of the reports to the regulator when the issue form leaves it empty."),
    Setting(
        "CONTACT_PERSON", None, "The contact person named in documents for the regulator and the consumer association when the issue form leaves it empty."
    ),
    Setting("CONTACT_PHONE", None, "The contact phone named in those documents when the issue form leaves it empty."),
    Setting(
        "WALL_PAGE_SECONDS",
        15,
        "The wall screen shows its panels a page at a time (a 1920×1080 screen holds no more without scrolling) and turns to the next page after this many seconds.",
    ),
]

DEFAULTS = {s.name: s.default for s in SETTINGS}
INT_SETTINGS = {s.name for s in SETTINGS if isinstance(s.default, int) and not isinstance(s.default, bool)}


def parse_env(environ):
    """Read CONSOLE_<NAME> variables, converting integers strictly."""
    values = {}
    for setting in SETTINGS:
        raw = environ.get("CONSOLE_" + setting.name)
        if raw is None:
            continue
        if isinstance(setting.default, dict):
            try:
                values[setting.name] = json.loads(raw)
            except ValueError:
                raise ValueError(f"CONSOLE_{setting.name} must be JSON, got {raw!r}") from None
        elif setting.name == "SCHEDULER":
            if raw not in ("on", "off"):
                raise ValueError(f"CONSOLE_SCHEDULER must be 'on' or 'off', got {raw!r}")
            values[setting.name] = raw
        elif isinstance(setting.default, bool):
            values[setting.name] = parse_bool(f"CONSOLE_{setting.name}", raw)
        elif setting.name in INT_SETTINGS:
            try:
                values[setting.name] = int(raw)
            except ValueError:
                raise ValueError(f"CONSOLE_{setting.name} must be a whole number, got {raw!r}") from None
        else:
            values[setting.name] = raw
    return values


def parse_bool(name, raw):
    """'1', 'true', 'on', 'yes' or '0', 'false', 'off', 'no'; anything else is refused, not read as false."""
    text = raw.strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no", ""):
        return False
    raise ValueError(f"{name} must be on or off (1/0, true/false), got {raw!r}")
