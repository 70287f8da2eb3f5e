"""The drill page for the crisis lead.

On the real console: the shipped scenarios, a button to start one (it runs
``python run.py drill`` as its own process, on its own drill database and
port), and the reports of past drills. On a drill console (DRILL on): the
drill's progress, the events played so far, and its report when it ends.
"""

import os
import socket
import subprocess
import sys

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import drills
from ..auth import requires
from ..clock import utcnow
from ..db import get_db
from ..errors import Conflict, Invalid

bp = Blueprint("drills", __name__)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@bp.get("/drills")
@requires("drill.run")
def page():
    if current_app.config["DRILL"]:
        drill = drills.CURRENT
        db = get_db()
        run, played = drills.latest_run(db)
        report = drill.report if drill and drill.report else None
        return render_template(
            "drills.html",
            in_drill=True,
            drill=drill,
            run=run,
            played=played,
            report=report,
            now=utcnow(),
            text_report=drills.format_report(report) if report else None,
        )
    return render_template(
        "drills.html",
        in_drill=False,
        scenarios=drills.shipped(),
        reports=drills.past_reports(current_app.config["DATABASE"]),
        running=current_app.extensions.get("drills_started", []),
    )


@bp.post("/drills/start")
@requires("drill.run")
def start():
    if current_app.config["DRILL"]:
        raise Conflict(_("This console is a drill already: start drills from the real console."))
    names = {name for name, _scenario in drills.shipped()}
    name = request.form.get("scenario", "")
    if name not in names:
        raise Invalid(_("Choose one of the shipped scenarios."), details=[{"field": "scenario", "message": _("is not a shipped scenario")}])
    try:
        speed = int(request.form.get("speed", "60"))
    except ValueError:
        speed = 0
    if not 1 <= speed <= 600:
        raise Invalid(_("The speed is drill minutes per real minute, from 1 to 600."), details=[{"field": "speed", "message": _("must be 1 to 600")}])
    port = _free_port()
    folder = os.path.join(os.path.dirname(current_app.config["DATABASE"]), "drills")
    os.makedirs(folder, exist_ok=True)
    log_path = os.path.join(folder, f"{name}-{port}.log")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(drills.ROOT / "run.py"),
                "--db",
                current_app.config["DATABASE"],
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "drill",
                str(drills.SCENARIO_FOLDER / name),
                "--speed",
                str(speed),
            ],
            cwd=str(drills.ROOT),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = current_app.extensions.setdefault("drills_started", [])
    started.append(
        {
            "scenario": name,
            "port": port,
            "pid": process.pid,
            "log": log_path,
            "speed": speed,
            "url": f"{request.scheme}://{request.host.rsplit(':', 1)[0]}:{port}/",
        }
    )
    flash(_("Drill started on its own drill database: open %(url)s", url=started[-1]["url"]))
    return redirect(url_for("drills.page"))
