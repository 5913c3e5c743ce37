"""Which signed membership and moderation acts of a private group count on a device (murmur.client.group_acts):
an act needing authority counts only when its author's role, and its signing device, lasted until it arrived, by
a bound on its arrival the device proves from what it held before (docs/encryption.md §14, §16.5)."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.group_acts import arrivals, counted_state
from murmur.errors import Refused
from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft
from murmur.kinds.group_fold import INVITE, MEMBER, GroupState
from murmur.message import Message, sign_draft
from murmur.validate import check

T0 = 1_700_000_000_000
OWNER, MOD, ANN, PUPPET = (Identity.from_seed(bytes([n]) * 32) for n in (41, 42, 43, 44))
MODS_ID = "7e" * 32  # the identity MOD's device speaks for, in the tests that name one
POST = "ab" * 32


def signed(who: Identity, draft: dict[str, Any], at: int, identity: str | None = None) -> Message:
    if identity is not None:
        draft = {**draft, "tags": [*draft["tags"], ["identity", identity]]}
    return check(sign_draft(who, draft, created_at=at))


CREATE = signed(OWNER, create_draft("board", join=INVITE), T0)
G = CREATE.id


def about(who: Identity, kind: str, subject: Identity, at: int, identity: str | None = None) -> Message:
    return signed(who, about_person_draft(kind, G, subject.public_key), at, identity)


async def bare(key: str) -> dict[str, Any] | None:
    return None


async def fold_seen(held: list[tuple[Message, int | None]], log_of: Any = bare) -> GroupState:
    """The state a device folds from ``held``: each message with when this device first held it."""
    messages = [m for m, _ in held]
    return await counted_state(CREATE, messages, arrivals(messages, {m.id: s for m, s in held}), log_of)


def members(state: GroupState) -> set[str]:
    return {p.key for p in state.people if p.status == MEMBER}


BACKDATED = {
    "an invitation": lambda at: about(MOD, "group_approve", PUPPET, at),
    "a removal": lambda at: about(MOD, "group_remove", ANN, at),
    "a hide": lambda at: signed(MOD, about_post_draft("group_hide", G, POST, reason="gone"), at),
    "a pin": lambda at: signed(MOD, about_post_draft("group_pin", G, POST), at),
}


@pytest.mark.parametrize("ended_by", ["group_remove", "group_unmod"])
@pytest.mark.parametrize("act", list(BACKDATED))
async def test_an_act_dated_back_into_a_role_that_had_ended_when_it_came_counts_for_nothing(
    act: str, ended_by: str
) -> None:
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(OWNER, "group_approve", ANN, T0 + 2)
    ended = about(OWNER, ended_by, MOD, T0 + 10)
    backdated = BACKDATED[act](T0 + 5)  # signed after the end, dated while MOD still held the role
    state = await fold_seen([(CREATE, T0 + 3), (made, T0 + 3), (invited, T0 + 3), (ended, T0 + 11),
                             (backdated, T0 + 12)])  # fmt: skip
    assert members(state) == {OWNER.public_key, ANN.public_key} | ({MOD.public_key} if ended_by == "group_unmod"
                                                                     else set())  # fmt: skip
    assert state.hidden == () and state.pinned == ()


async def test_the_bound_is_what_the_device_held_before_whatever_its_clock_said() -> None:
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    removed = about(OWNER, "group_remove", MOD, T0 + 100)
    backdated = about(MOD, "group_approve", PUPPET, T0 + 50)
    # this device's clock runs behind the owner's: it held the removal at "T0 + 20", signed at T0 + 100
    state = await fold_seen([(CREATE, T0 + 2), (made, T0 + 2), (removed, T0 + 20), (backdated, T0 + 21)])
    assert PUPPET.public_key not in members(state)
    assert arrivals([CREATE, made, removed, backdated], {CREATE.id: 2, made.id: 2, removed.id: 20, backdated.id: 21})[
        backdated.id] == T0 + 100  # fmt: skip


async def test_an_act_held_before_its_authors_role_ended_still_counts() -> None:
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5)
    removed = about(OWNER, "group_remove", MOD, T0 + 10)
    state = await fold_seen([(CREATE, T0 + 2), (made, T0 + 2), (invited, T0 + 6), (removed, T0 + 11)])
    assert ANN.public_key in members(state)


@pytest.mark.parametrize("seen", [None, T0 + 20])
async def test_a_log_first_held_whole_is_judged_at_its_signed_times(seen: int | None) -> None:
    """A device syncing a group for the first time (or a store from before arrivals were noted) has no bound: a
    moderator removed since still invited whom they invited, as on every other device."""
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5)
    removed = about(OWNER, "group_remove", MOD, T0 + 10)
    state = await fold_seen([(m, seen) for m in (CREATE, made, invited, removed)])
    assert members(state) == {OWNER.public_key, ANN.public_key}


def log_with(device: Identity, *, added: int = T0, removed: int | None = None) -> Any:
    view = {
        "identity": MODS_ID,
        "bare": False,
        "fork": None,
        "devices": [{"key": device.public_key, "x25519": "00" * 32, "added_at": added, "removed_at": removed}],
    }

    async def log_of(key: str) -> dict[str, Any] | None:
        return view if key == MODS_ID else None  # the owner speaks as a bare key here

    return log_of


@pytest.mark.parametrize(("dated", "held_after"), [(T0 + 30, T0 + 31), (T0 + 5, T0 + 31)])
async def test_an_act_signed_by_a_device_its_identity_removed_counts_for_nothing(dated: int, held_after: int) -> None:
    """Dated after the device's removal, or dated before it and come after it (held after a fetch that came
    after the removal): signed by no one's device."""
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    later = about(OWNER, "group_approve", ANN, T0 + 25)  # held before the act: the bound is past the removal
    forged = about(MOD, "group_approve", PUPPET, dated, identity=MODS_ID)
    state = await fold_seen([(CREATE, T0 + 2), (made, T0 + 2), (later, T0 + 26), (forged, held_after)],
                            log_with(MOD, removed=T0 + 20))  # fmt: skip
    assert PUPPET.public_key not in members(state)


async def test_an_act_its_device_signed_while_current_still_counts() -> None:
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5, identity=MODS_ID)
    state = await fold_seen([(CREATE, T0 + 2), (made, T0 + 2), (invited, T0 + 6)], log_with(MOD, removed=T0 + 20))
    assert ANN.public_key in members(state)


async def unresolved(key: str) -> dict[str, Any] | None:
    raise Refused("identity_unverified", "no signed inception")


async def test_an_act_naming_an_identity_whose_log_does_not_resolve_here_counts_for_nothing() -> None:
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5, identity=MODS_ID)
    held = [(CREATE, T0 + 2), (made, T0 + 2), (invited, T0 + 6)]
    for log_of in (unresolved, bare):  # a server calling a named identity bare proves no device of it
        assert ANN.public_key not in members(await fold_seen(held, log_of))


@pytest.mark.parametrize("log_of", [unresolved, bare])
async def test_an_epoch_is_not_sealed_on_a_state_that_left_out_an_unproven_act(log_of: Any) -> None:
    """Folded to seal an epoch (``strict``), the moderator's invitation is not quietly undone because its server
    will not show the moderator's log: the fold is refused, saying why."""
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5, identity=MODS_ID)
    messages = [CREATE, made, invited]
    with pytest.raises(Refused) as refused:
        await counted_state(CREATE, messages, arrivals(messages, {}), log_of, strict=True)
    assert refused.value.code == "identity_unverified"


async def test_acts_of_keys_that_never_held_a_role_are_never_looked_up() -> None:
    looked: list[str] = []

    async def counting(key: str) -> dict[str, Any] | None:
        looked.append(key)
        return None

    junk = [signed(Identity.from_seed(bytes([n]) * 32), about_person_draft("group_approve", G, PUPPET.public_key),
                   T0 + n) for n in range(60, 70)]  # fmt: skip
    await fold_seen([(CREATE, T0 + 1), *((m, T0 + 80) for m in junk)], counting)
    assert looked == []


def first_sight(*messages: Message) -> list[tuple[Message, int | None]]:
    """``messages`` as a device holds them after its first sync of the group: all in one fetch, none bounded."""
    return [(m, T0 + 1_000) for m in messages]


async def counted_on_first_sight(decided: dict[str, bool] | None = None, *, strict: bool = False,
                                 extra: tuple[Message, ...] = ()) -> tuple[GroupState, Message]:  # fmt: skip
    """A removed moderator's invitation of a puppet, dated inside the role, seen with the whole log at once."""
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", PUPPET, T0 + 5)
    removed = about(OWNER, "group_remove", MOD, T0 + 10)
    messages = [CREATE, made, invited, removed, *extra]
    held = first_sight(*messages)
    seen = {m.id: s for m, s in held}
    state = await counted_state(CREATE, messages, arrivals(messages, seen), bare, strict=strict, decided=decided,
                                seen=seen)  # fmt: skip
    return state, invited


async def test_an_act_no_fetch_bounds_of_a_role_since_ended_counts_for_reading_but_seals_nothing() -> None:
    state, _ = await counted_on_first_sight()
    assert PUPPET.public_key in members(state)  # read as every device read it before: it may have come in time
    with pytest.raises(Refused) as refused:
        await counted_on_first_sight(strict=True)
    assert refused.value.code == "act_unwitnessed"


@pytest.mark.parametrize("counted", [True, False])
async def test_an_act_an_epoch_witnessed_counts_as_it_witnessed_and_seals(counted: bool) -> None:
    _, invited = await counted_on_first_sight()
    state, _ = await counted_on_first_sight({invited.id: counted}, strict=True)
    assert (PUPPET.public_key in members(state)) is counted


async def test_an_unbounded_act_that_changes_no_member_stops_no_epoch() -> None:
    """The owner removed the one it invited since: however it counted, the members are the same."""
    undone = about(OWNER, "group_remove", PUPPET, T0 + 20)
    state, _ = await counted_on_first_sight(strict=True, extra=(undone,))
    assert PUPPET.public_key not in members(state)


async def test_an_act_of_a_role_still_held_is_not_in_doubt_on_first_sight() -> None:
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5)
    messages = [CREATE, made, invited]
    state = await counted_state(CREATE, messages, arrivals(messages, {}), bare, strict=True)
    assert ANN.public_key in members(state)


async def test_an_act_held_before_the_end_of_its_authors_role_is_not_in_doubt() -> None:
    """Held in the device's first fetch, the removal in a later one: the act came before the removal."""
    made = about(OWNER, "group_mod", MOD, T0 + 1)
    invited = about(MOD, "group_approve", ANN, T0 + 5)
    removed = about(OWNER, "group_remove", MOD, T0 + 10)
    messages = [CREATE, made, invited, removed]
    seen = {CREATE.id: T0 + 6, made.id: T0 + 6, invited.id: T0 + 6, removed.id: T0 + 11}
    state = await counted_state(CREATE, messages, arrivals(messages, seen), bare, strict=True, seen=seen)
    assert ANN.public_key in members(state)
