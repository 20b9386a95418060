"""Command line: edge serve | edge version | edge config validate FILE | edge user ..."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from edge import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge", description="Factory-floor collector and historian.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP APIs and the pipeline")
    serve.add_argument("--config", metavar="FILE", help="edge.conf to read (default: embedded defaults)")
    serve.add_argument("--data-dir", metavar="DIR", help="overrides DATA_DIR")
    serve.add_argument("--http-port", metavar="N", help="overrides HTTP_PORT_NO")
    serve.add_argument("--bind", metavar="ADDR", help="overrides HTTP_BIND")

    commands.add_parser("version", help="print the version")

    config = commands.add_parser("config", help="FactoryTX configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = config_commands.add_parser("validate", help="validate a FactoryTX configuration file")
    validate.add_argument("file", metavar="FILE")

    user = commands.add_parser("user", help="manage the users of the HTTP APIs (the server may be running)")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a user; the password comes from a prompt, stdin or "
                                               "$EDGE_USER_PASSWORD")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=("admin", "reader"), required=True,
                     help="admin: everything; reader: queries and status only")
    passwd = user_commands.add_parser("passwd", help="set a user's password (prompt, stdin or $EDGE_USER_PASSWORD)")
    passwd.add_argument("name", metavar="NAME")
    role = user_commands.add_parser("role", help="change a user's role")
    role.add_argument("name", metavar="NAME")
    role.add_argument("--role", choices=("admin", "reader"), required=True)
    remove = user_commands.add_parser("remove", help="remove a user (never the last admin)")
    remove.add_argument("name", metavar="NAME")
    user_commands.add_parser("list", help="list the users and their roles")
    for sub in (add, passwd, role, remove, user_commands.choices["list"]):
        sub.add_argument("--config", metavar="FILE", help="edge.conf to read (default: embedded defaults)")
        sub.add_argument("--data-dir", metavar="DIR", help="overrides DATA_DIR")

    args = parser.parse_args(argv)
    if args.command == "user":
        return _user(args)
    if args.command == "version":
        print(f"edge {__version__}")
        return 0
    if args.command == "serve":
        return _serve(args)
    if args.command == "config" and args.config_command == "validate":
        from edge.pipeline.config.validate_cli import validate_file

        return validate_file(args.file)
    parser.error("unknown command")
    return 2


def _serve(args) -> int:
    from edge.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config, {"DATA_DIR": args.data_dir, "HTTP_PORT_NO": args.http_port,
                                               "HTTP_BIND": args.bind})
    except SettingsError as exc:
        print(f"edge: {exc}", file=sys.stderr)
        return 2
    from edge.app import EdgeApp

    try:
        app = EdgeApp(settings)
    except OSError as exc:
        print(f"edge: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        app.serve()
    except OSError as exc:
        print(f"edge: cannot serve on {settings.http_bind}:{settings.http_port_no}: {exc}", file=sys.stderr)
        app.stop()
        return 1
    return 0


PASSWORD_VARIABLE = "EDGE_USER_PASSWORD"


def _user(args) -> int:
    """edge user add|passwd|role|remove|list on the catalog of DATA_DIR."""
    from edge.errors import EdgeError
    from edge.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config, {"DATA_DIR": args.data_dir})
    except SettingsError as exc:
        print(f"edge: {exc}", file=sys.stderr)
        return 2
    import apsw

    from edge.catalog import Catalog
    from edge.catalog.users import Users

    path = settings.data_dir / "catalog.db"
    if not path.exists():
        # Not created here: a mistyped --data-dir must not grow a second, empty catalog.
        print(f"edge: no catalog at {path}; start `edge serve` on this data directory once, "
              f"or give the right --data-dir / --config", file=sys.stderr)
        return 1
    try:
        catalog = Catalog(path)
    except (apsw.Error, OSError) as exc:
        print(f"edge: cannot open {path}: {exc}", file=sys.stderr)
        return 1
    users = Users(catalog)
    try:
        if args.user_command == "list":
            for found in users.list():
                print(f"{found.name}\t{found.role}\t{found.created_at}")
        elif args.user_command == "add":
            created = users.create(args.name, _new_password(), args.role)
            print(f"edge: added user {created.name} ({created.role})")
        elif args.user_command == "passwd":
            users.set_password(args.name, _new_password())
            print(f"edge: changed the password of {args.name.lower()}")
        elif args.user_command == "role":
            users.set_role(args.name, args.role)
            print(f"edge: {args.name.lower()} is now {args.role}")
        elif args.user_command == "remove":
            users.remove(args.name)
            print(f"edge: removed user {args.name.lower()}")
    except EdgeError as exc:
        print(f"edge: {exc.text}", file=sys.stderr)
        return 1
    except (PasswordNotGiven, apsw.Error) as exc:
        print(f"edge: {exc}", file=sys.stderr)
        return 1
    finally:
        catalog.close()
    return 0


class PasswordNotGiven(Exception):
    pass


def _new_password() -> str:
    """$EDGE_USER_PASSWORD, else asked twice on a terminal, else the first line of stdin: never
    an argument, which other users of the box could read in the process list."""
    if os.environ.get(PASSWORD_VARIABLE):
        return os.environ[PASSWORD_VARIABLE]
    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise PasswordNotGiven("the two passwords differ; nothing changed")
        return password
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise PasswordNotGiven(f"no password: type it at the prompt, pipe it to stdin or set {PASSWORD_VARIABLE}")
    return line.rstrip("\r\n")


if __name__ == "__main__":
    sys.exit(main())
