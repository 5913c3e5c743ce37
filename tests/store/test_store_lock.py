"""A device's plain (no passphrase) message stores are held by one program at a time, as sealed ones are: two at
once would each move a private group's chain from the same saved point and write two messages with one key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from murmur.errors import StoreError
from murmur.store.group_inbox import GroupInbox
from murmur.store.inbox import Inbox, LocalStore

HOLDER = """
import sys
from pathlib import Path
from murmur.store.group_inbox import GroupInbox
store = GroupInbox.open(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.readline()  # held until the test says to let go
store.close()
"""


@pytest.mark.parametrize("kind", [Inbox, GroupInbox])
def test_a_second_handle_on_a_plain_store_is_refused_until_the_first_closes(
    tmp_path: Path, kind: type[LocalStore]
) -> None:
    path = tmp_path / "store.db"
    first = kind.open(path)
    with pytest.raises(StoreError) as held:
        kind.open(path)
    assert "open in another murmur program" in held.value.message
    first.close()
    kind.open(path).close()


def test_another_program_holding_a_plain_store_refuses_this_one(tmp_path: Path) -> None:
    path = tmp_path / "groups.db"
    other = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert other.stdout is not None and other.stdout.readline() == "held\n"
        with pytest.raises(StoreError) as held:
            GroupInbox.open(path)
        assert "open in another murmur program" in held.value.message
    finally:
        assert other.stdin is not None
        other.stdin.close()  # let go, and wait for it to end
        assert other.wait() == 0
    GroupInbox.open(path).close()
