"""What templates may use: masking, local times, labels, money."""

import json

from flask import current_app, request, url_for
from flask_babel import get_locale

from . import figures, money, vocabulary
from .clock import local
from .masking import mask_id_number, mask_phone


def localtime(value, fmt="%Y-%m-%d %H:%M"):
    moment = local(value, current_app.config["TIMEZONE"])
    return moment.strftime(fmt) if moment else ""


def input_time(value):
    """A stored time as a datetime-local input value in the console's zone."""
    return localtime(value, "%Y-%m-%dT%H:%M")


def url_with(**changes):
    """The current URL with some query arguments changed (for paging and filters)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items()})
    args = {k: v for k, v in args.items() if v not in (None, "")}
    if request.endpoint is None:  # an error page for a URL that matched no route
        from urllib.parse import urlencode

        return request.path + ("?" + urlencode(args) if args else "")
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def place(code):
    """A province, city, unit or outlet code as the name people read (console/org.py):
    "河北省分行", not "130000". One lookup table per request."""
    from flask import g

    from .db import get_db
    from .org import names

    if not code:
        return ""
    if "place_names" not in g:
        g.place_names = names(get_db(), str(get_locale() or "zh_CN"))
    return g.place_names.get(code, code)


def _catalogue_name(kind, code):
    """A cause's or product's catalogue name (console/catalogue.py), or the text itself."""
    from .catalogue import name_of
    from .db import get_db

    return name_of(get_db(), kind, code)


def first_start_command():
    """On a console with no active crisis lead yet: the command that creates the first one."""
    from .db import get_db
    from .org import first_lead_command, first_lead_missing

    if not first_lead_missing(get_db()):
        return None
    return first_lead_command(current_app.config["DATABASE"], current_app.instance_path)


def playbook_title(playbook_id):
    """A playbook's title in the page's language (its id if no such playbook is on file)."""
    from . import playbooks
    from .i18n import language_code

    try:
        book = playbooks.get(playbook_id) if playbook_id else None
    except playbooks.PlaybookError:
        book = None
    if book is None:
        return playbook_id or ""
    return book.title.zh if language_code() == "zh_CN" else book.title.en


def init_app(app):
    app.jinja_env.filters.update(
        fromjson=json.loads,
        masked_phone=mask_phone,
        masked_id=mask_id_number,
        localtime=localtime,
        input_time=input_time,
        yuan=money.format_yuan,
        place=place,
        cause_name=lambda code: _catalogue_name("cause", code),
        product_name=lambda code: _catalogue_name("product", code),
        playbook_title=playbook_title,
    )
    app.jinja_env.globals["figures"] = figures  # the headline figures' names and definitions
    app.jinja_env.globals.update(
        place=place, first_start_command=first_start_command, vocab=vocabulary, label=vocabulary.label, url_with=url_with, get_locale=get_locale
    )
