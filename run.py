"""Run the crisis console, and its operator commands.

    python run.py [--host H] [--port P] [--db PATH] [--demo]   serve the console
    python run.py user add NAME --role ROLE [--scope CODE] [--password P]
    python run.py user list                                    accounts, last log-in, active tokens
    python run.py user deactivate NAME                         ends its sessions, tokens and boards
    python run.py user password NAME [--password P]            new password; ends sessions and tokens
    python run.py user role NAME --role ROLE [--scope CODE]    new role or scope; ends sessions and tokens
    python run.py token NAME [--name LABEL] [--days N]         print a new API token
    python run.py token list NAME                              a user's tokens
    python run.py token revoke ID                              revoke one token
    python run.py playbook check FILE                          validate a playbook
    python run.py backup [PATH]                                back up the database, safe while it runs
    python run.py restore BACKUP                               put a backup back (stop the console first)
    python run.py audit verify                                 check the audit log's hash chain
    python run.py org import FILE [--dry-run]                  import the organisation directory (CSV or XLSX)
    python run.py user import FILE [--dry-run]                 import users with role and scope (CSV or XLSX)
    python run.py catalogue import FILE [--dry-run]            import causes and products (CSV or XLSX)
    python run.py drill SCENARIO.yaml [--speed N] [--port P]   run a drill on a separate drill database

--db PATH may come before or after the command.
"""

import argparse
import os
import secrets
import sys

from console import create_app
from console.errors import ConsoleError
from console.process_tuning import settle_serving_process
from console.vocabulary import ROLES


def build_app(args):
    config = {}
    db = args.db or os.environ.get("CONSOLE_DB")
    if db:
        config["DATABASE"] = os.path.abspath(db)
    # Without SECRET_KEY set, create_app keeps one in instance/secret_key.
    return create_app(config)


def serve(app, args):
    from console.live import socketio

    if args.demo:
        load_demo(app)
    if app.config["SCHEDULER"] == "on":
        from monitors.runner import start_scheduler

        start_scheduler(app)
    settle_serving_process(app.config["SERVER_SWITCH_INTERVAL_MS"])  # threads and garbage collector: console/process_tuning.py
    print(f"Crisis console on http://{args.host}:{args.port}/  (database {app.config['DATABASE']})", flush=True)
    first_start_notice(app)
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def first_start_notice(app):
    """On a database without a crisis lead, say (log and stdout) how to create the first one."""
    import logging

    from console.db import connect
    from console.org import first_lead_command, first_lead_missing

    db = connect(app.config["DATABASE"])
    try:
        missing = first_lead_missing(db)
    finally:
        db.close()
    if missing:
        command = first_lead_command(app.config["DATABASE"], app.instance_path)
        message = f"No crisis lead exists yet. Create the first one with:  {command}  (it prints a password); everything else is done in the browser."
        logging.getLogger("console").warning(message)
        print(message, flush=True)


def import_command(app, args):
    """org / user / catalogue import FILE: check every row, print the report, write all or nothing."""
    from console import catalogue, org, user_import
    from console.audit import Actor
    from console.clock import utcnow
    from console.db import connect

    actor = Actor(user_id=None, username="cli", route=f"cli {args.command} import")
    with open(args.file, "rb") as f:
        content = f.read()
    db = connect(app.config["DATABASE"])
    made = []
    try:
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            if args.command == "org":
                report = org.import_file(db, args.file, content, actor, utcnow(), args.dry_run)
            elif args.command == "user":
                report, made = user_import.import_file(db, args.file, content, actor, utcnow(), args.dry_run)
            else:
                report = catalogue.import_file(db, args.file, content, actor, utcnow(), args.dry_run)
    except ConsoleError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.details or []:
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 2
    finally:
        db.close()
    counts = ", ".join(f"{n} {action}" for action, n in sorted(report["counts"].items()))
    print(f"{args.file}: {report['total']} rows, all valid ({counts}){'; dry run: nothing written' if args.dry_run else '; imported'}.")
    for username, password in made:
        if password:
            print(f"  {username}  password: {password}")
    return 0


def load_demo(app):
    from console import demo
    from console.clock import utcnow
    from console.db import connect

    db = connect(app.config["DATABASE"])
    try:
        with app.test_request_context():
            accounts = demo.load_demo(db, utcnow(), app.config)
    finally:
        db.close()
    print("Demo incident loaded. Demo accounts (user / password / role):")
    for username, password, role in accounts:
        print(f"  {username:<16} {password:<16} {role}")


def check_playbook(path):
    """Validate one playbook file; problems name the file and the line."""
    from console.playbooks import PlaybookError, load

    try:
        book = load(path)
    except PlaybookError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{path}: playbook '{book.id}' is valid: {len(book.tasks)} tasks in {len(book.streams)} streams.")
    return 0


def operator_config(args):
    """The settings create_app reads, without opening the database: a backup
    copies the database as it is (before any pending migration), and restore
    and audit verify must work on a database the app would refuse to open."""
    from flask import Config

    from console import ROOT, settings

    config = Config(str(ROOT / "instance"))
    config.from_mapping(settings.DEFAULTS)
    config.from_pyfile("config.py", silent=True)
    config.from_mapping(settings.parse_env(os.environ))
    db = args.db or os.environ.get("CONSOLE_DB")
    if db:
        config["DATABASE"] = os.path.abspath(db)
    elif not os.path.isabs(config["DATABASE"]):
        config["DATABASE"] = os.path.join(config.root_path, config["DATABASE"])
    return config


def backup_command(args):
    """Back the database up to PATH (a file, or a folder: default BACKUP_FOLDER) and say what was written."""
    from console import backup

    config = operator_config(args)
    try:
        made = backup.backup(config["DATABASE"], args.path or backup.folder(config), busy_timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"])
    except ConsoleError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"Backed up {config['DATABASE']} to {made.path} ({made.size:,} bytes in {made.seconds:.2f} s); integrity check ok.")
    if made.audit_last_id is not None:
        print(f"Audit log up to entry {made.audit_last_id}; keep this line elsewhere, then check it with")
        print(f"  python run.py audit verify --expect {made.audit_last_id}:{made.audit_hash}")
    return 0


def restore_command(args):
    """Put a backup back as the database; the one it replaces is kept beside it."""
    from console import backup

    config = operator_config(args)
    try:
        kept = backup.restore(args.backup, config["DATABASE"])
    except ConsoleError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"Restored {args.backup} as {config['DATABASE']}.")
    if kept:
        print(f"The database it replaced is kept as {kept}.")
    print("Next: python run.py audit verify, then start the console.")
    return 0


def audit_verify_command(args):
    """Walk the audit log's hash chain: exit 0 when intact, 1 when not, 2 when it cannot be read."""
    import sqlite3

    from console import audit

    path = operator_config(args)["DATABASE"]
    if not os.path.isfile(path):
        print(f"error: no database file at {path}", file=sys.stderr)
        return 2
    expected = None
    if args.expect:
        entry_id, _, expected_hash = args.expect.partition(":")
        if not entry_id.isdigit() or len(expected_hash) != 64:
            print("error: --expect takes ID:HASH, as run.py backup prints them", file=sys.stderr)
            return 2
        expected = (int(entry_id), expected_hash.lower())
    conn = sqlite3.connect(path)  # only read: no migration, the file stays as it is
    try:
        result = audit.verify(conn)
        if expected:
            problem = audit.check_anchor(conn, *expected)
            if problem:
                result.problems.insert(0, problem)
    except sqlite3.OperationalError as exc:
        print(
            f"error: cannot read the audit chain of {path} ({exc}); a database from before migration m010_audit_chain gets one when the console starts on it.",
            file=sys.stderr,
        )
        return 2
    finally:
        conn.close()
    if result.intact:
        print(f"Audit log intact: {result.entries} entries; the newest is {result.last_id}, hash {result.head_hash}")
        if expected:
            print(f"Entry {expected[0]} still has the hash noted earlier.")
        return 0
    print(f"Audit log NOT intact: {len(result.problems)} problem(s) in {result.entries} entries.")
    for problem in result.problems:
        print(f"  {problem.kind}: {problem.message}")
    return 1


def drill_command(args):
    """Run a drill: a console on a new drill database at an accelerated clock,
    the scenario played into it, the report printed at the end (console/drills.py)."""
    import threading

    from console import drills

    if args.speed is not None and not 1 <= args.speed <= 100000:
        print("error: --speed is drill minutes per real minute, from 1 to 100000", file=sys.stderr)
        return 2
    real_db = operator_config(args)["DATABASE"]
    try:
        app, drill, copied = drills.prepare(args.scenario, real_db, drill_db=args.drill_db, speed=args.speed)
    except drills.ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not copied:
        from console import users
        from console.db import connect

        password = secrets.token_urlsafe(12)
        db = connect(app.config["DATABASE"])
        try:
            users.add_user(db, "drill-lead", "lead", password)
        finally:
            db.close()
        print(f"No accounts in {real_db}: log in to the drill as drill-lead / {password}")
    scenario = drill.scenario
    print(
        f"演练 DRILL: {scenario.title.zh} / {scenario.title.en}: {scenario.duration_minutes} drill minutes at x{drill.speed} "
        f"({scenario.duration_minutes * 60 / drill.speed:.0f} s real); drill database {app.config['DATABASE']}",
        flush=True,
    )
    if copied:
        print(f"{copied} account(s) copied from {real_db}: log in as yourselves. No alert leaves the drill.", flush=True)
    if app.config["SCHEDULER"] == "on":
        from monitors.runner import start_scheduler

        start_scheduler(app)
    drill.start()

    def finish():
        drill.wait()
        if drill.report is None:
            print(f"error: the drill failed: {drill.error}", file=sys.stderr, flush=True)
            return
        path = drills.save_report(drill, args.report)
        print(drills.format_report(drill.report), flush=True)
        print(f"Report written to {path}", flush=True)
        if args.no_serve:
            return
        print("The drill console stays open for the debrief; stop it with Ctrl-C.", flush=True)

    if args.no_serve:
        finish()
        return 0 if drill.report is not None else 1
    threading.Thread(target=finish, name="drill-report", daemon=True).start()
    serve(app, argparse.Namespace(demo=False, host=args.host, port=args.port))
    return 0


def _cli_actor(args):
    from console.audit import Actor

    return Actor(user_id=None, username="cli", route=f"cli {args.command} {getattr(args, 'user_command', '') or ''}".strip())


def _account(db, name):
    from console import users
    from console.errors import NotFound

    row = users.find_user(db, name)
    if row is None:
        raise NotFound(f"No user named {name!r}.")
    return row


def user_command(app, db, args):
    """user add | list | deactivate | password | role."""
    from console import users
    from console.clock import utcnow

    if args.user_command == "add":
        password = args.password or secrets.token_urlsafe(12)
        users.add_user(db, args.name, args.role, password, scope_code=args.scope)
        print(f"Added {args.name} ({args.role}{', ' + args.scope if args.scope else ''}).")
        if not args.password:
            print(f"Password: {password}")
    elif args.user_command == "list":
        print(f"{'user':<20} {'role':<10} {'scope':<10} {'active':<7} {'last log-in':<26} tokens")
        for person in users.list_users(db, utcnow(), app.config["SESSION_IDLE_MINUTES"]):
            tokens = ", ".join(f"{t['id']}:{t['name']}" for t in person["tokens"]) or "-"
            print(
                f"{person['username']:<20} {person['role']:<10} {person['scope_code'] or '-':<10} "
                f"{'yes' if person['active'] else 'no':<7} {person['last_login_at'] or '-':<26} {tokens}"
            )
    elif args.user_command == "deactivate":
        ended = users.deactivate_user(db, _account(db, args.name)["id"], _cli_actor(args))
        print(
            f"Deactivated {args.name}: {ended['sessions']} session(s) ended, {ended['tokens']} token(s) revoked; "
            f"open boards are dropped within {app.config['LIVE_ACCESS_CHECK_SECONDS']} s."
        )
    elif args.user_command == "password":
        password = args.password or secrets.token_urlsafe(12)
        ended = users.set_password(db, _account(db, args.name)["id"], password, _cli_actor(args))
        print(f"New password set for {args.name}: {ended['sessions']} session(s) ended, {ended['tokens']} token(s) revoked.")
        if not args.password:
            print(f"Password: {password}")
    elif args.user_command == "role":
        ended = users.set_role(db, _account(db, args.name)["id"], args.role, args.scope, _cli_actor(args))
        print(
            f"{args.name} is now {args.role}{', ' + args.scope if args.scope else ''}: "
            f"{ended['sessions']} session(s) ended, {ended['tokens']} token(s) revoked."
        )
    return 0


def token_command(app, db, args):
    """token NAME [--name LABEL] [--days N] | token list NAME | token revoke ID."""
    from console import users
    from console.clock import utcnow

    words = args.words
    if words[0] == "list" and len(words) == 2:
        user = _account(db, words[1])
        print(f"{'id':<6} {'name':<24} {'state':<8} {'created':<26} {'expires':<26} last used")
        for t in users.list_tokens(db, user["id"], utcnow(), include_ended=True):
            print(f"{t['id']:<6} {t['name'] or '-':<24} {t['state']:<8} {t['created_at']:<26} {t['expires_at'] or '-':<26} {t['last_used_at'] or '-'}")
        return 0
    if words[0] == "revoke" and len(words) == 2:
        if not words[1].isdigit():
            print("error: token revoke takes a token id (see: run.py token list NAME)", file=sys.stderr)
            return 2
        row = users.revoke_token(db, int(words[1]), _cli_actor(args))
        print(f"Revoked token {words[1]} ({row['name']}); open boards using it are dropped within {app.config['LIVE_ACCESS_CHECK_SECONDS']} s.")
        return 0
    if len(words) != 1:
        print("error: use run.py token NAME, token list NAME or token revoke ID", file=sys.stderr)
        return 2
    days = args.days if args.days is not None else app.config["TOKEN_DAYS"]
    print(users.issue_token(db, words[0], name=args.label, days=days, actor=_cli_actor(args)))
    return 0


def _with(common):
    """A subparser class that also takes the ``common`` options (--db)."""

    class Parser(argparse.ArgumentParser):
        def __init__(self, **kwargs):
            kwargs.setdefault("parents", [common])
            super().__init__(**kwargs)

    return Parser


def main(argv=None):
    parser = argparse.ArgumentParser(prog="run.py", description="The crisis and group-complaint command console.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--db", help="SQLite file (default instance/console.db; also CONSOLE_DB)")
    parser.add_argument("--demo", action="store_true", help="load the demo incident and one account per role first")
    # --db is also taken after the command (run.py user add X --db PATH); SUPPRESS keeps one given first
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help="SQLite file (default instance/console.db; also CONSOLE_DB)")
    sub = parser.add_subparsers(dest="command", parser_class=_with(common))
    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, parser_class=_with(common))
    user_import = user_sub.add_parser("import", help="import users with role and scope from a CSV or XLSX file (all or nothing)")
    user_import.add_argument("file")
    user_import.add_argument("--dry-run", action="store_true", help="check and report only")
    for name, text in (
        ("org", "the organisation directory: head office, province and city branches, outlets"),
        ("catalogue", "causes and products: names and surge rules"),
    ):
        group = sub.add_parser(name, help=text)
        group_sub = group.add_subparsers(dest=f"{name}_command", required=True, parser_class=_with(common))
        imported = group_sub.add_parser("import", help="import from a CSV or XLSX file (all or nothing)")
        imported.add_argument("file")
        imported.add_argument("--dry-run", action="store_true", help="check and report only")
    add = user_sub.add_parser("add", help="add an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--scope", help="province code (e.g. 130000) or branch code, for role 'branch'")
    add.add_argument("--password", help="at least 10 characters, not a common one; a random one is printed if omitted")
    user_sub.add_parser("list", help="list accounts: role, scope, last log-in, active tokens")
    deactivate = user_sub.add_parser("deactivate", help="deactivate an account: its sessions, tokens and boards end")
    deactivate.add_argument("name")
    password = user_sub.add_parser("password", help="set a new password: the account's sessions and tokens end")
    password.add_argument("name")
    password.add_argument("--password", help="the new password; a random one is printed if omitted")
    role = user_sub.add_parser("role", help="change role or scope: the account's sessions and tokens end")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=list(ROLES))
    role.add_argument("--scope", help="province code or branch code, for role 'branch'")
    token = sub.add_parser("token", help="API bearer tokens: NAME issues one; 'list NAME'; 'revoke ID'")
    token.add_argument("words", nargs="+", metavar="NAME | list NAME | revoke ID")
    token.add_argument("--name", dest="label", help="what the token is for (shown in lists), e.g. 'wecom-bot'")
    token.add_argument("--days", type=int, help="days until it expires (default TOKEN_DAYS, 90)")
    playbook = sub.add_parser("playbook", help="playbooks")
    playbook_sub = playbook.add_subparsers(dest="playbook_command", required=True, parser_class=_with(common))
    check = playbook_sub.add_parser("check", help="validate a playbook file")
    check.add_argument("file")
    backup = sub.add_parser("backup", help="back up the database, safe while the console is running")
    backup.add_argument("path", nargs="?", help="a file, or a folder to write a dated copy in (default BACKUP_FOLDER)")
    restore = sub.add_parser("restore", help="put a backup back as the database (stop the console first)")
    restore.add_argument("backup", help="the backup file")
    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, parser_class=_with(common))
    verify = audit_sub.add_parser("verify", help="check the hash chain: exit 0 intact, 1 not")
    verify.add_argument("--expect", metavar="ID:HASH", help="also check that entry ID still has HASH (as noted from a backup)")
    drill = sub.add_parser("drill", help="run a drill scenario on a separate drill database at an accelerated clock")
    drill.add_argument("scenario", help="a scenario file, e.g. drills/postal_dividend_surge.yaml")
    drill.add_argument("--speed", type=int, help="drill minutes per real minute (default: the scenario's, 60)")
    drill.add_argument("--drill-db", help="the drill database to create (default instance/drills/SCENARIO-TIME.db)")
    drill.add_argument("--report", help="where to write the report JSON (default beside the drill database)")
    drill.add_argument("--no-serve", action="store_true", help="play the scenario and print the report, without serving the screens")
    args = parser.parse_args(argv)

    if args.command == "playbook":
        return check_playbook(args.file)
    if args.command == "backup":
        return backup_command(args)
    if args.command == "restore":
        return restore_command(args)
    if args.command == "audit":
        return audit_verify_command(args)
    if args.command == "drill":
        return drill_command(args)

    app = build_app(args)
    if args.command in ("org", "catalogue") or (args.command == "user" and args.user_command == "import"):
        return import_command(app, args)
    if args.command is None:
        serve(app, args)
        return 0

    from console.db import connect

    db = connect(app.config["DATABASE"])
    try:
        with app.app_context():
            if args.command == "user":
                return user_command(app, db, args)
            if args.command == "token":
                return token_command(app, db, args)
    except ConsoleError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
