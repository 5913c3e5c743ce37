"""``murmur completion SHELL``: print the tab-completion script for a named shell.

typer's ``--install-completion`` and ``--show-completion`` guess the shell from the process tree and say "Shell
not supported" when the guess fails (under ``sh``, in a container, from a script); naming the shell always works.
"""

from __future__ import annotations

from typing import Annotated

import typer
from typer.completion import Shells, get_completion_script

from murmur.client.cli.common import emit_exact

PROG_NAME = "murmur"
COMPLETE_VAR = "_MURMUR_COMPLETE"  # what click reads to answer a completion request for a program named murmur


def completion(
    shell: Annotated[Shells, typer.Argument(help="The shell: bash, zsh, fish, powershell or pwsh.")],
) -> None:
    """Print the tab-completion script for SHELL, e.g. `murmur completion bash >> ~/.bashrc`."""
    emit_exact(get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell.value))
