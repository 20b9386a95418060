"""Command line: edge serve | edge version | edge config validate FILE."""

from __future__ import annotations

import argparse
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

    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
