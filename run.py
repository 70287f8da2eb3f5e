"""Run the crisis console, and its operator commands.

    python run.py [--host H] [--port P] [--db PATH] [--demo]   serve the console
    python run.py user add NAME --role ROLE [--scope CODE] [--password P]
    python run.py token NAME                                   print a new API token
    python run.py playbook check FILE                          validate a playbook
"""

import argparse
import os
import secrets
import sys

from console import create_app
from console.errors import ConsoleError


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
    # Set here, for the serving process only: see SERVER_SWITCH_INTERVAL_MS.
    sys.setswitchinterval(app.config["SERVER_SWITCH_INTERVAL_MS"] / 1000)
    print(f"Crisis console on http://{args.host}:{args.port}/  (database {app.config['DATABASE']})", flush=True)
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="run.py", description="The crisis and group-complaint command console.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--db", help="SQLite file (default instance/console.db; also CONSOLE_DB)")
    parser.add_argument("--demo", action="store_true", help="load the demo incident and one account per role first")
    sub = parser.add_subparsers(dest="command")
    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["lead", "team", "branch", "executive", "legal"])
    add.add_argument("--scope", help="province code (e.g. 130000) or branch code, for role 'branch'")
    add.add_argument("--password", help="at least 8 characters; a random one is printed if omitted")
    token = sub.add_parser("token", help="issue a new API bearer token for a user")
    token.add_argument("name")
    playbook = sub.add_parser("playbook", help="playbooks")
    playbook_sub = playbook.add_subparsers(dest="playbook_command", required=True)
    check = playbook_sub.add_parser("check", help="validate a playbook file")
    check.add_argument("file")
    args = parser.parse_args(argv)

    if args.command == "playbook":
        return check_playbook(args.file)

    app = build_app(args)
    if args.command is None:
        serve(app, args)
        return 0

    from console import users
    from console.db import connect

    db = connect(app.config["DATABASE"])
    try:
        if args.command == "user":
            password = args.password or secrets.token_urlsafe(12)
            users.add_user(db, args.name, args.role, password, scope_code=args.scope)
            print(f"Added {args.name} ({args.role}{', ' + args.scope if args.scope else ''}).")
            if not args.password:
                print(f"Password: {password}")
        elif args.command == "token":
            print(users.issue_token(db, args.name))
    except ConsoleError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
