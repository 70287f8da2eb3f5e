"""The words of the trade: every enumerated value the console stores, with its label.

Values are stored in English snake_case; labels go through the translation
catalogue. Sources are in shared DOMAIN.md.
"""

from functools import lru_cache

from flask_babel import lazy_gettext as _l

ROLES = {
    "lead": _l("Crisis lead"),
    "team": _l("Crisis team"),
    "branch": _l("Branch contact"),
    "executive": _l("Executive"),
    "legal": _l("Legal"),
}

SEVERITIES = {
    "light": _l("Light (a misunderstanding)"),
    "medium": _l("Medium (a promise not kept)"),
    "severe": _l("Severe (compliance breach, money lost)"),
}

INCIDENT_STATUSES = {
    "monitoring": _l("Monitoring"),
    "active": _l("Active"),
    "stood_down": _l("Stood down"),
    "closed": _l("Closed"),
}

COMPLAINANT_STATUSES = {
    "new": _l("New"),
    "contacted": _l("Contacted"),
    "negotiating": _l("Negotiating"),
    "offer_made": _l("Offer made"),
    "accepted": _l("Accepted"),
    "settled": _l("Settled"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
    "unreachable": _l("Unreachable"),
    "escalated": _l("Escalated"),
}

# The board's colour for each complainant status (board.js gets them in its config)
STATUS_COLOURS = {
    "new": "#f2a33a",
    "contacted": "#f6c85f",
    "negotiating": "#9bc4e2",
    "offer_made": "#5b9bd5",
    "accepted": "#3a78c2",
    "settled": "#4caf50",
    "closed": "#2e7d32",
    "withdrawn": "#b0bec5",
    "unreachable": "#8d6e63",
    "escalated": "#d32f2f",
}

ESCALATION_CHANNELS = {
    "regulator": _l("Regulator"),
    "media": _l("Media"),
    "court": _l("Court"),
    "petition": _l("Petition (xinfang)"),
}

# DOMAIN.md "Who is who" (seed 000, 6C)
TEMPERAMENTS = {
    "negotiator": _l("Negotiator (agitated, clear goal)"),
    "grumbler": _l("Grumbler (calm, no clear goal)"),
    "harasser": _l("Harasser"),
    "rational": _l("Rational"),
}

MOTIVES = {
    "solve_problem": _l("Wants the problem solved"),
    "gain": _l("Seeks gain"),
    "publicity": _l("Seeks publicity"),
}

# Identities that make a complaint major (seeds 000, 001, 003)
RISK_FLAGS = {
    "vip": _l("VIP"),
    "journalist": _l("Journalist"),
    "lawyer": _l("Lawyer"),
    "official": _l("Official"),
    "vulnerable": _l("Elderly or vulnerable"),
    "organiser": _l("Organiser"),
    "sales_agent": _l("Serving or former sales agent"),
    "repeat": _l("Repeat complainant"),
}

CONTACT_CHANNELS = {
    "phone": _l("Phone"),
    "visit": _l("Visit at branch"),
    "home_visit": _l("Home visit"),
    "sms": _l("SMS"),
    "email": _l("E-mail"),
    "letter": _l("Letter"),
    "wechat": _l("WeChat"),
}

# Proof that the complainant was notified (Art. 21)
NOTICE_PROOFS = {
    "none": _l("No notice given"),
    "handed_over": _l("Handed over in person"),
    "sms_sent": _l("SMS sent"),
    "email_sent": _l("E-mail sent"),
    "call_placed": _l("Call placed"),
}


MOODS = {
    "calm": _l("Calm"),
    "tense": _l("Tense"),
    "hostile": _l("Hostile"),
}


ROLLUP_TYPES = {
    "initial": _l("Initial"),
    "update": _l("Update"),
    "final": _l("Final"),
}

ROLLUP_STATUSES = {
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "issued": _l("Issued"),
}


def label(mapping, value):
    """The translated label of a stored value, or the value itself if unknown."""
    return mapping.get(value, value) if value is not None else ""


@lru_cache(maxsize=1)
def zh_catalogue():
    """The zh_CN catalogue, read once per process: for Chinese outside a request's language."""
    from .i18n import load_translations

    return load_translations("zh_CN")


def zh(mapping, value):
    """The Chinese label of a stored value, whatever the reader's language and
    with or without a request: for the documents and exports that are always in
    Chinese. The value itself if unknown, "" for None."""
    if value is None:
        return ""
    if value not in mapping:
        return value
    return zh_catalogue().gettext(msgid(mapping[value]))


def msgid(text):
    """The English msgid behind a label made with lazy_gettext."""
    return text._args[0] if hasattr(text, "_args") else str(text)


# Going live (console/org.py, tabular.py, catalogue.py)
ORG_KINDS = {
    "head_office": _l("Head office"),
    "province": _l("Province branch"),
    "city": _l("City branch"),
    "outlet": _l("Outlet"),
}

IMPORT_ACTIONS = {
    "new": _l("new"),
    "changed": _l("changed"),
    "unchanged": _l("unchanged"),
}

CATALOGUE_KINDS = {
    "cause": _l("Cause"),
    "product": _l("Product"),
}


# What the monitors and rules alert about (console/alerts.py raise_alert's kinds)
ALERT_KINDS = {
    "surge": _l("Complaint surge"),
    "mass_incident": _l("Mass incident"),
    "major_in_person": _l("Major complaint in person"),
    "group_visit": _l("Group visit"),
    "missed_update": _l("Missed hourly update"),
    "promised_contact": _l("Promised contact overdue"),
    "decision_deadline": _l("Decision deadline passed"),
    "first_response": _l("First response overdue"),
    "resolution": _l("Resolution time passed"),
    "severe_complaint": _l("Severe complaint: tell the supervisor"),
    "severe_incident": _l("Severe incident"),
    "supervisor_not_told": _l("Supervisor not told in time"),
    "monitor_failed": _l("A monitor could not finish"),
    "intake_quarantined": _l("Intake complaints set aside"),
    "storage_returned": _l("Storage space is back"),
    "severe": _l("Severe incident"),  # alerts raised before severity was per complaint
}

ALERT_LEVELS = {
    "info": _l("Notice"),
    "warning": _l("Warning"),
    "critical": _l("Urgent"),
}

CHANNEL_KINDS = {
    "wecom": _l("WeCom group robot"),
    "dingtalk": _l("DingTalk custom robot"),
    "feishu": _l("Feishu custom bot"),
    "email": _l("E-mail (SMTP)"),
    "webhook": _l("Signed webhook"),
}

# How a complaint reached us (seed 002; DOMAIN.md "Identity, channels and transfers")
COMPLAINT_CHANNELS = {
    "hotline": _l("Hotline"),
    "outlet": _l("At the outlet"),
    "account_manager": _l("Account manager"),
    "website": _l("Website"),
    "regulator_transfer": _l("Regulator transfer (12378)"),
    "consumer_association": _l("Consumer association (12315)"),
    "media": _l("Media"),
    "court": _l("Court"),
    "petition": _l("Petition (xinfang)"),
}


# The scheduled watchers (monitors/), as the monitor health page names them
MONITOR_NAMES = {
    "surge": _l("Complaint surges"),
    "missed_updates": _l("Missed hourly updates"),
    "timers": _l("Deadlines and severity tiers"),
    "crowd": _l("Crowds and closed outlets"),
    "tasks": _l("Playbook tasks"),
    "rollups": _l("Daily roll-ups"),
    "webhooks": _l("Webhook"),
    "deliveries": _l("Alert channels"),
    "backup": _l("Backups"),
}


# Where a playbook task comes from (console/playbooks.py)
TASK_TRIGGERS = {
    "activation": _l("Activation"),
    "crowd": _l("Crowd at an outlet"),
    "daily": _l("Daily"),
    "settlement": _l("Settlement"),
    "group": _l("Group"),
}

TASK_STATUSES = {
    "open": _l("Open"),
    "done": _l("Done"),
}

# The outside parties the playbook streams work with (DOMAIN.md "outside support")
PARTIES = {
    "regulator": _l("Regulator"),
    "consumer_association": _l("Consumer association"),
    "media": _l("Media"),
    "police": _l("Police"),
}

# Documents issued to an outside party (console/documents/)
DOCUMENT_KINDS = {
    "regulator_report": _l("Report to the regulator"),
    "consumer_association_packet": _l("Consumer association packet"),
    "media_statement": _l("Media statement"),
    "early_warning_plan": _l("Early warning plan"),
}

MEDIA_ITEM_KINDS = {
    "inquiry": _l("Inquiry"),
    "coverage": _l("Coverage"),
}

SETTLEMENT_STATUSES = {
    "accepted": _l("accepted, not yet signed off"),
    "final": _l("signed off"),
    "withdrawn": _l("withdrawn"),
}

OFFER_STATUSES = {
    "open": _l("open"),
    "accepted": _l("accepted"),
    "declined": _l("turned down"),
    "superseded": _l("superseded"),
    "withdrawn": _l("withdrawn"),
}

# What complainants demand (console/forecast.py sorts free text into these)
DEMAND_KINDS = {
    "principal": _l("principal back"),
    "interest": _l("interest or promised returns"),
    "expenses": _l("expenses (travel, lost work)"),
    "compensation": _l("compensation"),
    "apology": _l("an apology or explanation"),
    "accountability": _l("staff held to account"),
    "publicity": _l("threat of media exposure"),
    "other": _l("other"),
}


# The formal wording of the documents issued to outside parties (console/documents/,
# warning_plan.py): where it differs from the pages' labels, a second label set here,
# never a table of its own in the document code.
FORMAL_SEVERITIES = {
    "light": _l("Ordinary (of the misunderstanding kind)"),
    "medium": _l("Serious (a promise not honoured)"),
    "severe": _l("Severe (a breach of rules or money lost)"),
}

FORMAL_INCIDENT_STATUSES = {
    "monitoring": _l("Under monitoring"),
    "active": _l("Emergency response under way"),
    "stood_down": _l("Emergency response stood down"),
    "closed": _l("Case closed"),
}

FORMAL_COMPLAINANT_STATUSES = {
    **COMPLAINANT_STATUSES,
    "accepted": _l("Accepted the proposed plan"),
    "closed": _l("Case closed"),
    "unreachable": _l("Cannot be reached for now"),
}

FORMAL_MOODS = {
    **MOODS,
    "hostile": _l("Openly hostile"),
}

FORMAL_ROLES = {
    "lead": _l("Emergency response lead"),
    "team": _l("Emergency response team"),
    "branch": _l("Branch office"),
    "executive": _l("Company management"),
    "legal": _l("Legal and compliance department"),
}

FORMAL_DOCUMENT_KINDS = {
    **DOCUMENT_KINDS,
    "regulator_report": _l("Regulatory report"),
    "consumer_association_packet": _l("Material for the consumer association"),
    "review": _l("Post-incident review report"),
}

FORMAL_DEMAND_KINDS = {
    **DEMAND_KINDS,
    "compensation": _l("compensation (emotional damages included)"),
}
