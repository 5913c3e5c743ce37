"""The ``murmur`` program: global options, command registration, and the one place errors become exit codes.

This is the one module that composes the client's commands (murmur.client.cli) with the server's
(murmur.server.cli: commands that work on a data directory). Nothing else in the client imports the server,
and the server never imports the client (tests/core/test_import_hygiene.py checks both).

Each command's module is imported only when the program is built with it (``COMMANDS``): ``murmur tui``, and a
bare ``murmur``, load the TUI's own modules and not the forty other commands' (the stores, the server's
commands), which were a fifth of the TUI's cold start. Help, completion and an unknown command build them all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from murmur import __version__
from murmur.client.cli import tui_cmd
from murmur.client.cli.common import Globals
from murmur.client.cli.program import MurmurGroup
from murmur.terminal import say

CLIENT, SERVER = "murmur.client.cli.", "murmur.server.cli."


def _up() -> Any:
    from murmur.client.cli.up import up_command
    from murmur.server.cli.up import LocalServer

    return up_command(LocalServer)


def _down() -> Any:
    from murmur.client.cli.up import down_command
    from murmur.server.cli.up import LocalServer

    return down_command(LocalServer)


def _doctor() -> Any:
    from murmur.client.cli.doctor import person_findings
    from murmur.server.cli.doctor import doctor_command

    return doctor_command(person_findings)


def _export() -> Any:
    from murmur.client.cli.own import own_messages
    from murmur.server.cli.bundles import export_command

    return export_command(own_messages)


def _import() -> Any:
    from murmur.client.cli.own import import_mine
    from murmur.server.cli.bundles import import_command

    return import_command(import_mine)


# Every command in the order help lists them: its name, and its function or command group (a Typer) as
# "module:attribute" or made by a function (the commands both sides compose).
COMMANDS: dict[str, str | Callable[[], Any]] = {
    "init": CLIENT + "identity:init",
    "whoami": CLIENT + "identity:whoami",
    "sign": CLIENT + "signing:sign",
    "verify": CLIENT + "signing:verify",
    "join": CLIENT + "social:join",
    "post": CLIENT + "social:post",
    "edit": CLIENT + "edits:edit",
    "history": CLIENT + "edits:history",
    "timeline": CLIENT + "reading:timeline",
    "thread": CLIENT + "reading:thread",
    "repair": CLIENT + "reading:repair",
    "react": CLIENT + "social:react",
    "boost": CLIENT + "social:boost",
    "unreact": CLIENT + "social:unreact",
    "unboost": CLIENT + "social:unboost",
    "delete": CLIENT + "social:delete",
    "follow": CLIENT + "social:follow",
    "unfollow": CLIENT + "social:unfollow",
    "profile": CLIENT + "social:profile",
    "search": CLIENT + "reading:search",
    "notifications": CLIENT + "reading:notifications",
    "members": CLIENT + "reading:members",
    "serve": SERVER + "admin:serve",
    "tui": CLIENT + "tui_cmd:tui",
    "completion": CLIENT + "completion:completion",
    "up": _up,
    "down": _down,
    "identity": CLIENT + "devices:identity_app",
    "device": CLIENT + "devices:device_app",
    "recovery": CLIENT + "devices:recovery_app",
    "key": CLIENT + "devices:key_app",
    "recover": CLIENT + "devices:recover",
    "move": CLIENT + "devices:move",
    "dm": CLIENT + "dm:dm_app",
    "group": CLIENT + "groups:group_app",
    "poll": CLIENT + "polls:poll_app",
    "meetup": CLIENT + "meetups:meetup_app",
    "letter": CLIENT + "letters:letter_app",
    "admin": SERVER + "admin:admin",
    "peer": SERVER + "peers:peer",
    "config": SERVER + "settings:config_app",
    "sync": SERVER + "peers:sync",
    "doctor": _doctor,
    "export": _export,
    "import": _import,
}
GLOBAL_OPTIONS = ("--home", "--profile")  # the root's options that take a value


def _resolve(where: str | Callable[[], Any]) -> Any:
    if callable(where):
        return where()
    module, attribute = where.split(":")
    return getattr(import_module(module), attribute)


@cache
def build(only: str | None = None) -> typer.Typer:
    """The program with every command, or with only the command ``only`` (what running it needs)."""
    app = typer.Typer(
        name="murmur",
        help="murmur: a terminal-first federated microblog. Your identity is a key; every message is signed.",
        no_args_is_help=False,
        pretty_exceptions_enable=False,
        add_completion=True,
        cls=MurmurGroup,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback(invoke_without_command=True)(root)
    for name, where in COMMANDS.items():
        if only is None or name == only:
            made = _resolve(where)
            if isinstance(made, typer.Typer):
                app.add_typer(made, name=name)
            else:
                app.command(name)(made)
    return app


def command_named(args: list[str]) -> str | None:
    """The one command these arguments run, when the program can be built with it alone (``tui`` for a bare
    ``murmur``); None when it needs them all: help, ``--version``, a name it does not know (click suggests the
    near ones), shell completion (which reads its words from the environment)."""
    if any(name.startswith("_MURMUR_COMPLETE") for name in os.environ):
        return None
    at = 0
    while at < len(args) and (
        args[at] in GLOBAL_OPTIONS or args[at].startswith(tuple(f"{o}=" for o in GLOBAL_OPTIONS))
    ):
        at += 1 if "=" in args[at] else 2
    if at >= len(args):
        return "tui"
    return args[at] if args[at] in COMMANDS else None


def full_help(ctx: typer.Context) -> str:
    """The whole program's help, for a bare ``murmur`` that cannot open the TUI (built with ``tui`` alone)."""
    group = typer.main.get_command(build())
    return group.get_help(click.Context(group, info_name=ctx.info_name, obj=ctx.obj))


def _print_version(value: bool | None) -> None:
    if value:
        say(f"murmur {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", envvar="MURMUR_HOME", help="One directory for all your murmur files, instead of the platform's."
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", envvar="MURMUR_PROFILE", help="Which identity/server to use.")
    ] = None,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print murmur's version and exit."),
    ] = None,
) -> None:
    ctx.obj = Globals(home=home, profile=profile)
    if ctx.invoked_subcommand is None:
        tui_cmd.bare(ctx, interactive=sys.stdin.isatty() and sys.stdout.isatty(), help_text=lambda: full_help(ctx))


def __getattr__(name: str) -> Any:
    """``app``: the program with every command (for tests driving it in-process, and for documentation)."""
    if name == "app":
        return build()
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the program; an expected failure is one line on stderr and a documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    build(command_named(args))(args=args, prog_name="murmur")
