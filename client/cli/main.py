"""The ``murmur`` program: global options, command registration, and the one place errors become exit codes.

This is the one module that composes the client's commands (murmur.client.cli) with the server's
(murmur.server.cli: commands that work on a data directory). Nothing else in the client imports the server,
and the server never imports the client (tests/core/test_import_hygiene.py checks both).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from murmur import __version__
from murmur.client.cli import (
    completion,
    devices,
    dm,
    edits,
    groups,
    identity,
    own,
    polls,
    reading,
    signing,
    social,
    tui_cmd,
    up,
)
from murmur.client.cli import doctor as person_doctor
from murmur.client.cli import letters as letter_cli
from murmur.client.cli import meetups as meetup_cli
from murmur.client.cli.common import Globals
from murmur.client.cli.program import MurmurGroup
from murmur.server.cli import admin, bundles, doctor, peers, settings
from murmur.server.cli.up import LocalServer
from murmur.terminal import say

app = typer.Typer(
    name="murmur",
    help="murmur: a terminal-first federated microblog. Your identity is a key; every message is signed.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=True,
    cls=MurmurGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool | None) -> None:
    if value:
        say(f"murmur {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
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
        tui_cmd.bare(ctx, interactive=sys.stdin.isatty() and sys.stdout.isatty())


app.command()(identity.init)
app.command()(identity.whoami)
app.command()(signing.sign)
app.command()(signing.verify)
app.command()(social.join)
app.command()(social.post)
app.command()(edits.edit)
app.command()(edits.history)
app.command()(reading.timeline)
app.command()(reading.thread)
app.command()(reading.repair)
app.command()(social.react)
app.command()(social.boost)
app.command()(social.unreact)
app.command()(social.unboost)
app.command()(social.delete)
app.command()(social.follow)
app.command()(social.unfollow)
app.command()(social.profile)
app.command()(reading.search)
app.command()(reading.notifications)
app.command()(reading.members)
app.command()(admin.serve)
app.command()(tui_cmd.tui)
app.command()(completion.completion)
app.command()(up.up_command(LocalServer))
app.command()(up.down_command(LocalServer))
app.add_typer(devices.identity_app, name="identity")
app.add_typer(devices.device_app, name="device")
app.add_typer(devices.recovery_app, name="recovery")
app.add_typer(devices.key_app, name="key")
app.command()(devices.recover)
app.command()(devices.move)
app.add_typer(dm.dm_app, name="dm")
app.add_typer(groups.group_app, name="group")
app.add_typer(polls.poll_app, name="poll")
app.add_typer(meetup_cli.meetup_app, name="meetup")
app.add_typer(letter_cli.letter_app, name="letter")
app.add_typer(admin.admin, name="admin")
app.add_typer(peers.peer, name="peer")
app.add_typer(settings.config_app, name="config")
app.command()(peers.sync)
app.command()(doctor.doctor_command(person_doctor.person_findings))
app.command()(bundles.export_command(own.own_messages))
app.command("import")(bundles.import_command(own.import_mine))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the program; an expected failure is one line on stderr and a documented exit code."""
    app(args=argv, prog_name="murmur")
