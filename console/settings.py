"""Every setting the console reads, with its default and what it is for.

One table, as in datasette's SETTINGS: a test fails when a setting here is not
documented in README.md. Values come, in order, from these defaults, the
instance folder's ``config.py``, ``CONSOLE_*`` environment variables, then the
``config`` mapping passed to ``create_app`` (tests).

Figures taken from the regulation digest (shared DOMAIN.md) are defaults only:
rules differ by province and year, so an administrator can change every one.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = [
    Setting("DATABASE", "console.db", "Path of the SQLite file (relative paths are inside the instance folder). Also --db or CONSOLE_DB."),
    Setting("SECRET_KEY", None, "Signs session cookies and CSRF tokens. run.py keeps one in instance/secret_key when unset."),
    Setting("TIMEZONE", "Asia/Shanghai", "Time zone in which times are shown and days are counted; storage is always UTC."),
    Setting("DEFAULT_LOCALE", "zh_CN", "Interface language when the browser asks for none we have (zh_CN or en)."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 10000, "How long a writer waits for a lock before failing."),
    Setting("DECISION_DAYS", 15, "Days from receipt to decide and tell the complainant (CBIRC 2020 No. 3, Art. 18)."),
    Setting("EXTENSION_1_TOTAL_DAYS", 30, "A complex case may be extended to this many days from receipt (Art. 18)."),
    Setting("EXTENSION_2_EXTRA_DAYS", 30, "A very complex case may be extended by this many more days, with senior approval and notice (Art. 18)."),
    Setting("MAX_REPRESENTATIVES", 5, "Representatives a group of joint complainants may choose (Art. 12)."),
    Setting("PAGE_SIZE", 50, "Rows per page in the HTML complainant list (the API takes per_page up to 500)."),
    Setting("MAX_BULK", 10000, "Most complainants accepted in one API call."),
    Setting("SOCKETIO_MESSAGE_QUEUE", None, "A redis:// URL: several server processes (and monitors in other processes) then share the live board's rooms."),
    Setting("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, "Largest request body or uploaded file."),
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
        if setting.name in INT_SETTINGS:
            try:
                values[setting.name] = int(raw)
            except ValueError:
                raise ValueError(f"CONSOLE_{setting.name} must be a whole number, got {raw!r}") from None
        else:
            values[setting.name] = raw
    return values
