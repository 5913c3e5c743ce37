"""The ``murmur`` program: global options, command registration, and the one place errors become exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from murmur.client.cli import admin, bundles, identity, peers, reading, signing, social, tui_cmd, up
from murmur.client.cli.common import Globals, complain, exit_code_for
from murmur.errors import MurmurError

app = typer.Typer(
    name="murmur",
    help="murmur: a terminal-first federated microblog. Your identity is a key; every message is signed.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option("--home", envvar="MURMUR_HOME", help="Directory holding keys and client config.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", envvar="MURMUR_PROFILE", help="Which identity/server to use.")
    ] = None,
) -> None:
    ctx.obj = Globals(home=home, profile=profile)
    if ctx.invoked_subcommand is None:
        tui_cmd.bare(ctx)


app.command()(identity.init)
app.command()(identity.whoami)
app.command()(signing.sign)
app.command()(signing.verify)
app.command()(social.join)
app.command()(social.post)
app.command()(reading.timeline)
app.command()(reading.thread)
app.command()(social.react)
app.command()(social.boost)
app.command()(social.delete)
app.command()(social.follow)
app.command()(social.unfollow)
app.command()(social.profile)
app.command()(reading.search)
app.command()(reading.notifications)
app.command()(reading.members)
app.command()(admin.serve)
app.command()(tui_cmd.tui)
app.command()(up.up)
app.command()(up.down)
app.add_typer(admin.admin, name="admin")
app.add_typer(peers.peer, name="peer")
app.command()(peers.sync)
app.command()(bundles.export)
app.command("import")(bundles.import_)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the program; an expected failure is one line on stderr and a documented exit code."""
    try:
        app(args=argv, prog_name="murmur")
    except MurmurError as error:
        complain(error.message)
        sys.exit(exit_code_for(error))
    except KeyboardInterrupt:
        sys.exit(130)
