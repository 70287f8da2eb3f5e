"""Languages: Chinese (zh_CN) and English, chosen from the browser and switchable.

Catalogues are the ``.po`` files under ``console/translations``; they are
compiled in memory when first used, so no compiled ``.mo`` file is kept in git.
"""

import io
from pathlib import Path

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
from flask_babel import Babel, Domain, get_locale

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = {"zh_CN": "中文", "en": "English"}


def catalogue_path(locale):
    return TRANSLATIONS / str(locale) / "LC_MESSAGES" / "messages.po"


def load_translations(locale):
    """Translations for a locale, compiled from its .po file (or none for English)."""
    path = catalogue_path(locale)
    if not path.exists():
        return support.NullTranslations()
    with open(path, "rb") as f:
        catalog = read_po(f, locale=str(locale))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return support.Translations(fp=buffer)


def language_code(locale=None):
    """'zh_CN' or 'en' for a Babel locale (Babel names zh_CN 'zh_Hans_CN')."""
    locale = locale if locale is not None else get_locale()
    if locale is None:
        return "en"
    return "zh_CN" if locale.language == "zh" else locale.language


class PoDomain(Domain):
    """A Flask-Babel domain that reads .po files directly."""

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        key = language_code(locale)
        if key not in self.cache:
            self.cache[key] = load_translations(key)
        return self.cache[key]


class PoBabel(Babel):
    @property
    def domain_instance(self):
        if not hasattr(self, "_po_domain"):
            self._po_domain = PoDomain()
        return self._po_domain


def select_locale():
    """?lang= (remembered in the session), else the session, else the browser.

    Outside a request (monitors, commands) the console's default language.
    """
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    best = request.accept_languages.best_match(["zh_CN", "zh", "zh_Hans", "en"])
    if best is None:
        return current_app.config["DEFAULT_LOCALE"]
    return "en" if best == "en" else "zh_CN"


babel = PoBabel()


def init_app(app):
    babel.init_app(app, locale_selector=select_locale, default_timezone="UTC")
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["language_code"] = language_code
