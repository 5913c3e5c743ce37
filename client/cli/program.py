"""How the ``murmur`` program ends: every failure is one line ``murmur: REASON`` on stderr and a documented exit
code (docs/cli.md), whether it is murmur's own error or one of click's usage errors.

typer and click print usage errors as a multi-line box (or ``Usage:``, a hint and ``Error:``); a script reading
stderr, and a person, should get the same one line as for any other failure.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
import typer.core

from murmur.console import EXIT_LOCAL, EXIT_REFUSED, EXIT_USAGE, complain, exit_code_for
from murmur.errors import MurmurError, os_error

EXIT_INTERRUPTED = 130
# typer exports only BadParameter; its bases are the usage error and the root exception of the click typer runs
# on (a copy vendored inside typer in recent versions, click itself before).
UsageError, ClickException = typer.BadParameter.__mro__[1:3]


def _stop(message: str, code: int) -> NoReturn:
    complain(message)  # inert: a usage error quotes what was typed, an error may quote a server
    sys.exit(code)


def usage_line(error: Any) -> str:
    """click's message on one line, with where to read more for a usage error."""
    text = " ".join(error.format_message().split())
    if isinstance(error, UsageError):
        ctx = getattr(error, "ctx", None)
        text += f" (see `{ctx.command_path if ctx is not None else 'murmur'} --help`)"
    return text


class MurmurGroup(typer.core.TyperGroup):
    """The root command group: runs click without its standalone error printing, and prints failures itself."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except UsageError as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # a group given no command: its help is the answer
                error.show()
                sys.exit(EXIT_USAGE)
            _stop(usage_line(error), EXIT_USAGE)
        except ClickException as error:
            _stop(usage_line(error), error.exit_code)
        except typer.Abort:
            _stop("aborted.", EXIT_REFUSED)
        except MurmurError as error:
            _stop(error.message, exit_code_for(error))
        except OSError as error:  # the operating system's errors end here too: one line, never a traceback
            _stop(os_error(error).message, EXIT_LOCAL)
        except KeyboardInterrupt:
            sys.exit(EXIT_INTERRUPTED)
        # Without standalone mode click returns the code of an explicit exit (--help, typer.Exit) or the
        # command's return value, which is None for every murmur command.
        sys.exit(code if isinstance(code, int) else 0)
