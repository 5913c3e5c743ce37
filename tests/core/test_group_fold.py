"""The group fold: every arrival order of a group's messages gives the same state, and authority is that of
each message's time."""

from __future__ import annotations

import itertools
from typing import Any

from murmur.keys import Identity
from murmur.kinds.group_drafts import about_person_draft, about_post_draft, create_draft, membership_draft
from murmur.kinds.group_fold import GroupState, Person, RoleSpan, covers, fold
from murmur.message import Message, sign_draft
from murmur.validate import check

T0 = 1_700_000_000_000
OWNER, MOD, ANN, BEN = (Identity.from_seed(bytes([n]) * 32) for n in (21, 22, 23, 24))
POST = "ab" * 32


def signed(who: Identity, draft: dict[str, Any], at: int) -> Message:
    return check(sign_draft(who, draft, created_at=at))


def group(approval: bool = True) -> Message:
    return signed(OWNER, create_draft("Fix the build", description="CI is slow", approval=approval), T0)


def fold_all(create: Message, messages: list[Message]) -> GroupState:
    return fold(create, messages)


def test_every_arrival_order_of_a_scenario_gives_the_same_state() -> None:
    create = group()
    g = create.id
    messages = [
        signed(ANN, membership_draft("group_join", g), T0 + 1),  # asks (approval group)
        signed(MOD, about_person_draft("group_approve", g, ANN.public_key), T0 + 2),  # not a moderator yet
        signed(OWNER, about_person_draft("group_mod", g, MOD.public_key), T0 + 3),
        signed(MOD, about_person_draft("group_approve", g, ANN.public_key), T0 + 4),
        signed(BEN, membership_draft("group_join", g), T0 + 5),
        signed(MOD, about_post_draft("group_hide", g, POST, reason="off topic"), T0 + 6),
        signed(MOD, about_person_draft("group_remove", g, ANN.public_key), T0 + 7),
    ]
    states = {fold(create, list(order)) for order in itertools.permutations(messages)}
    assert len(states) == 1
    [state] = states
    assert state.person(ANN.public_key) == Person(ANN.public_key, "removed", "", T0 + 7)
    assert state.person(MOD.public_key) == Person(MOD.public_key, "member", "moderator", T0 + 3)
    assert state.person(BEN.public_key) == Person(BEN.public_key, "pending", "", T0 + 5)
    assert [(h.post, h.by, h.reason) for h in state.hidden] == [(POST, MOD.public_key, "off topic")]
    # Ann was a member from the approval that counted (T0+4) until her removal (T0+7), and only then.
    assert not state.member_at(ANN.public_key, T0 + 3)
    assert state.member_at(ANN.public_key, T0 + 4) and state.member_at(ANN.public_key, T0 + 6)
    assert not state.member_at(ANN.public_key, T0 + 7)


def test_a_moderation_by_someone_without_authority_at_its_time_changes_nothing() -> None:
    create = group()
    g = create.id
    asks = signed(ANN, membership_draft("group_join", g), T0 + 1)
    early = signed(MOD, about_person_draft("group_approve", g, ANN.public_key), T0 + 2)
    appointed = signed(OWNER, about_person_draft("group_mod", g, MOD.public_key), T0 + 3)
    state = fold(create, [appointed, early, asks])
    assert state.person(ANN.public_key).status == "pending"  # type: ignore[union-attr]
    stranger_hides = signed(BEN, about_post_draft("group_hide", g, POST, reason="mine now"), T0 + 4)
    stranger_mods = signed(BEN, about_person_draft("group_mod", g, BEN.public_key), T0 + 4)
    assert fold(create, [asks, stranger_hides, stranger_mods]).hidden == ()
    assert fold(create, [asks, stranger_hides, stranger_mods]).person(BEN.public_key) is None


def test_a_removal_counts_only_if_its_author_was_a_moderator_then() -> None:
    create = group(approval=False)
    g = create.id
    joins = signed(ANN, membership_draft("group_join", g), T0 + 1)
    removal = signed(MOD, about_person_draft("group_remove", g, ANN.public_key), T0 + 2)
    appointed = signed(OWNER, about_person_draft("group_mod", g, MOD.public_key), T0 + 3)
    dismissed = signed(OWNER, about_person_draft("group_unmod", g, MOD.public_key), T0 + 1)
    assert fold(create, [removal, appointed, joins]).person(ANN.public_key).status == "member"  # type: ignore[union-attr]
    later = signed(MOD, about_person_draft("group_remove", g, ANN.public_key), T0 + 4)
    assert fold(create, [later, appointed, joins, dismissed]).person(ANN.public_key).status == "removed"  # type: ignore[union-attr]


def test_open_groups_admit_at_once_and_a_removed_member_must_be_approved_back() -> None:
    create = group(approval=False)
    g = create.id
    joins = signed(ANN, membership_draft("group_join", g), T0 + 1)
    removed = signed(OWNER, about_person_draft("group_remove", g, ANN.public_key), T0 + 2)
    again = signed(ANN, membership_draft("group_join", g), T0 + 3)
    back = signed(OWNER, about_person_draft("group_approve", g, ANN.public_key), T0 + 4)
    assert fold(create, [joins]).person(ANN.public_key).status == "member"  # type: ignore[union-attr]
    assert fold(create, [joins, removed, again]).person(ANN.public_key).status == "pending"  # type: ignore[union-attr]
    state = fold(create, [joins, removed, again, back])
    assert state.person(ANN.public_key).status == "member"  # type: ignore[union-attr]
    assert [(k, s, e) for k, s, e in state.spans if k == ANN.public_key] == [
        (ANN.public_key, T0 + 1, T0 + 2),
        (ANN.public_key, T0 + 4, None),
    ]


def test_leaving_pinning_and_the_owner_who_cannot_be_removed() -> None:
    create = group(approval=False)
    g = create.id
    joins = signed(ANN, membership_draft("group_join", g), T0 + 1)
    leaves = signed(ANN, membership_draft("group_leave", g), T0 + 2)
    pin = signed(OWNER, about_post_draft("group_pin", g, POST), T0 + 3)
    unpin = signed(OWNER, about_post_draft("group_unpin", g, POST), T0 + 4)
    coup = signed(OWNER, about_person_draft("group_remove", g, OWNER.public_key), T0 + 5)
    state = fold(create, [joins, leaves, pin, coup])
    assert state.person(ANN.public_key) is None
    assert [p.post for p in state.pinned] == [POST]
    assert state.person(OWNER.public_key) == Person(OWNER.public_key, "member", "owner", T0)
    assert fold(create, [pin, unpin]).pinned == ()


def test_messages_of_another_group_or_dated_before_the_creation_change_nothing() -> None:
    create = group(approval=False)
    other = signed(OWNER, create_draft("Another"), T0 + 1)
    elsewhere = signed(ANN, membership_draft("group_join", other.id), T0 + 2)
    before = signed(BEN, membership_draft("group_join", create.id), T0 - 1)
    state = fold(create, [elsewhere, before])
    assert [p.key for p in state.people] == [OWNER.public_key]


def test_roles_are_kept_as_spans_of_time_whatever_the_arrival_order() -> None:
    create = group(approval=False)
    g = create.id
    messages = [
        signed(MOD, membership_draft("group_join", g), T0 + 1),
        signed(OWNER, about_person_draft("group_mod", g, MOD.public_key), T0 + 2),
        signed(OWNER, about_person_draft("group_unmod", g, MOD.public_key), T0 + 5),
        signed(OWNER, about_person_draft("group_mod", g, MOD.public_key), T0 + 8),
        signed(OWNER, about_person_draft("group_remove", g, MOD.public_key), T0 + 9),  # a removal ends a role too
        signed(BEN, membership_draft("group_join", g), T0 + 3),
        signed(BEN, about_person_draft("group_mod", g, ANN.public_key), T0 + 4),  # not the owner: no role
    ]
    states = {fold(create, list(order)) for order in itertools.permutations(messages)}
    assert len(states) == 1
    [state] = states
    expected = [
        RoleSpan(MOD.public_key, "moderator", T0 + 2, T0 + 5),
        RoleSpan(MOD.public_key, "moderator", T0 + 8, T0 + 9),
        RoleSpan(OWNER.public_key, "owner", T0, None),
    ]
    assert state.roles == tuple(sorted(expected, key=lambda r: (r.key, r.start)))
    assert len(state.roles) == 3  # Ann never held one


def test_an_act_dated_coarsely_is_covered_by_a_role_held_in_its_window_and_still_held_when_it_arrived() -> None:
    window = (T0, T0 + 600_000)
    assert covers(T0 - 5, None, *window, None)  # held throughout
    assert covers(T0 + 30, None, *window, T0 + 60)  # appointed within the window, before it arrived
    assert covers(T0 - 5, T0 + 120, *window, T0 + 60)  # demoted after it arrived
    assert not covers(T0 - 5, T0 + 120, *window, T0 + 120)  # it arrived at the demotion, or after it
    assert not covers(T0 - 5, T0 + 120, *window, T0 + 900_000)  # came late: cannot be told from one sealed after
    assert covers(T0 - 5, T0 + 120, *window, None)  # no arrival known: the window decides
    assert not covers(T0 - 50, T0, *window, None)  # ended when the window opened
    assert not covers(T0 + 600_000, None, *window, None)  # began after the window closed


def test_a_role_is_its_persons_acted_on_from_any_current_device_of_their_identity() -> None:
    from murmur.kinds.group_speakers import DeviceSpan, Speakers

    create = group()
    g = create.id
    person = "cd" * 32  # MOD and BEN are devices of one identity; BEN is removed at T0 + 5
    speakers = Speakers({MOD.public_key: DeviceSpan(person, T0), BEN.public_key: DeviceSpan(person, T0, T0 + 5)})
    asks = signed(ANN, membership_draft("group_join", g), T0 + 1)
    appointed = signed(OWNER, about_person_draft("group_mod", g, person), T0 + 2)
    by_ben = signed(BEN, about_person_draft("group_approve", g, ANN.public_key), T0 + 3)
    assert fold(create, [asks, appointed, by_ben], speakers).person(ANN.public_key).status == "member"  # type: ignore[union-attr]
    assert fold(create, [asks, appointed, by_ben]).person(ANN.public_key).status == "pending"  # type: ignore[union-attr]
    late = signed(BEN, about_person_draft("group_approve", g, ANN.public_key), T0 + 6)  # after BEN's removal
    assert fold(create, [asks, appointed, late], speakers).person(ANN.public_key).status == "pending"  # type: ignore[union-attr]
    dismissed = signed(OWNER, about_person_draft("group_unmod", g, MOD.public_key), T0 + 3)  # by a device's key
    after = signed(BEN, about_person_draft("group_approve", g, ANN.public_key), T0 + 4)
    state = fold(create, [asks, appointed, dismissed, after], speakers)
    assert state.person(person).role == "" and state.person(ANN.public_key).status == "pending"  # type: ignore[union-attr]


def test_the_steps_a_private_group_keeps_fold_to_the_same_members_and_roles() -> None:
    from murmur.kinds.group_fold import bearing

    create = signed(OWNER, create_draft("board", join="invite"), T0)
    g = create.id
    real = [
        signed(OWNER, about_person_draft("group_mod", g, MOD.public_key), T0 + 1),
        signed(MOD, about_person_draft("group_approve", g, ANN.public_key), T0 + 2),
        signed(ANN, membership_draft("group_leave", g), T0 + 4),
        signed(OWNER, about_person_draft("group_unmod", g, MOD.public_key), T0 + 5),
        signed(MOD, about_person_draft("group_approve", g, BEN.public_key), T0 + 6),  # no longer a moderator
    ]
    junk = [signed(BEN, membership_draft("group_join", g), T0 + 3),
            signed(BEN, about_person_draft("group_approve", g, BEN.public_key), T0 + 3),
            signed(BEN, membership_draft("group_leave", g), T0 + 7)]  # fmt: skip
    kept = bearing(create, [*real, *junk])
    assert {m.id for m in kept} == {m.id for m in real}
    whole, folded = fold(create, [*real, *junk]), fold(create, kept)
    assert (whole.spans, whole.roles) == (folded.spans, folded.roles)
    assert [p for p in whole.people if p.status != "pending"] == list(folded.people)
