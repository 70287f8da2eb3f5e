"""What a channel message says: Chinese, short, no personal data, a link back.

Each alert becomes one line built from its structured fields only: its
level, what kind of alert it is, the incident's title (anything in it that
looks like a phone or ID number, an amount or an e-mail address masked), the
place (province and branch names), the time, a head count where the alert
has one, and a link to the incident's page. The alert's own sentence is not
sent: it is free text that may name a complainant, and a name cannot be
recognised reliably enough to mask it. Of ``data`` only the counts
``people_on_site`` and ``count`` are read (it may list complainants). A burst
becomes one message of many lines, cut where the vendor's size limit would be
passed.
"""

import json
import re

from flask_babel import force_locale
from flask_babel import gettext as _

from ..clock import local
from ..masking import mask_id_number, mask_phone

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
AMOUNT = re.compile(r"(?:[¥￥]\s*[\d,]+(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s*(?:万元|元|万|yuan|CNY|RMB))")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def scrub(text, limit=120):
    """``text`` with phone and ID numbers masked, amounts and e-mail addresses
    removed, cut to ``limit`` characters."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text or "")
    text = PHONE.sub(lambda m: mask_phone(m.group()), text)
    text = LANDLINE.sub("****", text)
    text = AMOUNT.sub("**", text)
    text = EMAIL.sub("****", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_label(kind):
    from console.vocabulary import ALERT_KINDS

    return str(ALERT_KINDS.get(kind, _("Alert")))


def level_label(level):
    from console.vocabulary import ALERT_LEVELS

    return str(ALERT_LEVELS.get(level, level))


def alert_line(alert, settings, markdown=True):
    """One alert as one short Chinese line (call inside force_locale('zh_CN'))."""
    base = settings["PUBLIC_URL"].rstrip("/")
    link = f"{base}/incidents/{alert['incident_id']}" if alert.get("incident_id") else f"{base}/alerts"
    place = " ".join(p for p in (alert.get("province_name"), alert.get("branch_name")) if p)
    when = local(alert["raised_at"], settings["TIMEZONE"]).strftime("%m-%d %H:%M")
    head = f"[{level_label(alert['level'])}] {kind_label(alert['kind'])} #{alert['id']}"
    data = alert.get("data")
    data = json.loads(data) if isinstance(data, str) else (data or {})
    count = ""
    if isinstance(data.get("people_on_site"), int):
        count = _("%(n)s people on site", n=data["people_on_site"])
    elif isinstance(data.get("count"), int):
        count = _("%(n)s complainant(s)", n=data["count"])
    parts = [scrub(alert.get("incident_title") or "", 40), place, count, when]
    text = " · ".join(p for p in parts if p)
    open_text = _("Open in the console")
    if markdown:
        return f"- **{head}** {text}\n  [{open_text}]({link})"
    return f"{head} {text}\n  {link}"


def trial_line(settings, markdown=True):
    base = settings["PUBLIC_URL"].rstrip("/")
    text = _("Test message from the crisis console: this channel receives alerts.")
    open_text = _("Open in the console")
    return f"- {text}\n  [{open_text}]({base}/channels)" if markdown else f"{text}\n  {base}/channels"


def title(count):
    return _("Crisis console: %(n)s alert(s)", n=count)


def lines(items, settings, markdown=True):
    """Each queued item ({'delivery_id', 'alert' or None}) as its Chinese line."""
    with force_locale("zh_CN"):
        return [
            (item["delivery_id"], trial_line(settings, markdown) if item["alert"] is None else alert_line(item["alert"], settings, markdown)) for item in items
        ]


def batches(lined, max_bytes, max_lines=None):
    """Lines grouped into messages of at most ``max_bytes`` (UTF-8, with the
    title) and ``max_lines`` lines; returns [(delivery_ids, [line, ...])]."""
    out, ids, chunk, size = [], [], [], 0
    for delivery_id, line in lined:
        length = len(line.encode()) + 1
        if chunk and (size + length > max_bytes or (max_lines and len(chunk) >= max_lines)):
            out.append((ids, chunk))
            ids, chunk, size = [], [], 0
        ids.append(delivery_id)
        chunk.append(line)
        size += length
    if chunk:
        out.append((ids, chunk))
    return out


def render(chunk, markdown=True):
    """(title, text) of one message of lines."""
    with force_locale("zh_CN"):
        heading = title(len(chunk))
    body = "\n".join(chunk)
    return heading, (f"**{heading}**\n{body}" if markdown else f"{heading}\n\n{body}")
