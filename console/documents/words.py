"""The documents' words and formats: formal Chinese labels (console/vocabulary.py), local times, figures' names and definitions."""

from zoneinfo import ZoneInfo

from .. import figures, vocabulary
from ..clock import from_iso
from ..errors import Invalid
from .pdf import Section, Table

# --- words and formats -------------------------------------------------------------------------

# The documents' formal wording: console/vocabulary.py's FORMAL_* label sets (and PARTIES),
# in Chinese whatever the reader's language (_zh below); the names are the call sites'.
SEVERITY_ZH = vocabulary.FORMAL_SEVERITIES
INCIDENT_STATUS_ZH = vocabulary.FORMAL_INCIDENT_STATUSES
COMPLAINANT_STATUS_ZH = vocabulary.FORMAL_COMPLAINANT_STATUSES
MOOD_ZH = vocabulary.FORMAL_MOODS
ROLE_ZH = vocabulary.FORMAL_ROLES
PARTY_ZH = vocabulary.PARTIES
DOCUMENT_KIND_ZH = vocabulary.FORMAL_DOCUMENT_KINDS
INCIDENT_FIELD_ZH = {
    "title": "事件名称",
    "cause": "起因",
    "product": "涉及产品",
    "severity": "严重程度",
    "status": "状态",
    "playbook": "应急预案",
    "mass_incident_at": "群体性事件认定时间",
}
NO_GROUP = "未分组"
NO_BRANCH = "（未指明网点）"
NONE = "暂无"


def zh_label(mapping, value):
    return vocabulary.zh(mapping, value)


def tz(settings):
    return ZoneInfo(settings.get("TIMEZONE") or "Asia/Shanghai")


def when_local(value, settings):
    """A stored (UTC) time or a datetime, as local Chinese date and time."""
    moment = from_iso(value) if isinstance(value, str) else value
    if moment is None:
        return ""
    local = moment.astimezone(tz(settings))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def duration(seconds):
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{round(seconds / 60)} 分钟"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86400:.1f} 天"


def required(**values):
    missing = [name for name, value in values.items() if not (value or "").strip()]
    if missing:
        raise Invalid(
            f"The document needs {', '.join(missing)} (文件须写明：{', '.join(missing)}).",
            details=[{"field": name, "message": "is required"} for name in missing],
        )


def figure(key):
    """A headline figure's Chinese name (console/figures.py)."""
    return figures.FIGURES[key].zh_label


def definitions(keys):
    """The closing note saying what each figure in the document counts (console/figures.py)."""
    return Section("附：指标说明", [Table(["指标", "含义"], [list(pair) for pair in figures.zh_definitions(keys)], widths=[0.24, 0.76])])


REVIEW_FIGURES = ("complainants", "settled_to_date")


def organisation_name(settings):
    return settings.get("ORGANISATION_NAME") or "（报送单位）"
