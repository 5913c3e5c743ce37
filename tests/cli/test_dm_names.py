"""Who an ``@name`` or a key prefix names is remembered on the device the first time it is written to: a server
that later answers with someone else (or a look-alike name registered since) is caught, not believed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from murmur.client.conversations import Conversations, remembered_as
from murmur.errors import ConfigError
from tests.cli.test_dm_hostile_home import Home, talks
from tests.dm_people import Speaker


class Answering(Home):
    """A home server whose answer for a handle or a prefix is whatever ``says`` holds now."""

    says: dict[str, str]

    async def people(self, name: str) -> list[dict[str, Any]]:
        name = name.lower()  # handles are matched without case, as the server does
        return [{"key": self.says[name], "name": name}] if name in self.says else []

    async def profile(self, key: str) -> dict[str, Any]:
        return {"key": self.says[key]}


def home_for(ada: Speaker, *others: Speaker) -> Answering:
    home = Answering(ada.devices[0].key, {s.identity: s.events for s in (ada, *others)})
    home.says = {}
    return home


async def test_a_handle_that_comes_to_name_someone_else_is_caught(tmp_path: Path) -> None:
    ada, bo, mallory = Speaker.new(), Speaker.new(), Speaker.new()
    home = home_for(ada, bo, mallory)
    reader: Conversations = talks(ada.devices[0], home, ada.identity, tmp_path)
    home.says["bo"] = bo.identity
    assert (await reader.named("@bo")).identity == bo.identity
    assert (await reader.named("@BO")).identity == bo.identity  # the same name, however typed
    home.says["bo"] = mallory.identity  # the server now answers for Bo with its own choice
    with pytest.raises(ConfigError) as caught:
        await reader.named("@bo")
    said = caught.value.message
    assert "@bo" in said and "murmur dm forget @bo" in said
    assert bo.identity[:8] in said.replace(" ", "") or "named the identity" in said
    assert reader.inbox.forget_name(remembered_as("@bo"))
    assert (await reader.named("@bo")).identity == mallory.identity  # taken, on the person's word


async def test_a_key_prefix_is_remembered_and_a_whole_identity_names_itself(tmp_path: Path) -> None:
    ada, bo, mallory = Speaker.new(), Speaker.new(), Speaker.new()
    home = home_for(ada, bo, mallory)
    reader: Conversations = talks(ada.devices[0], home, ada.identity, tmp_path)
    prefix = bo.identity[:8]
    home.says[prefix] = bo.identity
    assert (await reader.named(prefix)).identity == bo.identity
    # A key ground out to share the prefix (2^32 work) would pass the check that the answer starts with it: the
    # device remembers whom the prefix named, and another identity under it is told apart.
    assert reader.inbox.name(remembered_as(prefix), mallory.identity, 0) == bo.identity
    assert (await reader.named(mallory.identity)).identity == mallory.identity  # a whole identity is never pinned
