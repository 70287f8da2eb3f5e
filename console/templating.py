"""What templates may use: masking, local times, labels, money."""

import json
from decimal import Decimal

from flask import current_app, request, url_for
from flask_babel import get_locale

from . import vocabulary
from .clock import local
from .masking import mask_id_number, mask_phone


def localtime(value, fmt="%Y-%m-%d %H:%M"):
    moment = local(value, current_app.config["TIMEZONE"])
    return moment.strftime(fmt) if moment else ""


def input_time(value):
    """A stored time as a datetime-local input value in the console's zone."""
    return localtime(value, "%Y-%m-%dT%H:%M")


def yuan(value):
    if value is None:
        return ""
    return f"¥{Decimal(value):,.2f}"


def url_with(**changes):
    """The current URL with some query arguments changed (for paging and filters)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items()})
    args = {k: v for k, v in args.items() if v not in (None, "")}
    if request.endpoint is None:  # an error page for a URL that matched no route
        from urllib.parse import urlencode

        return request.path + ("?" + urlencode(args) if args else "")
    return url_for(request.endpoint, **(request.view_args or {}), **args)


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
        yuan=yuan,
        playbook_title=playbook_title,
    )
    app.jinja_env.globals.update(vocab=vocabulary, label=vocabulary.label, url_with=url_with, get_locale=get_locale)
