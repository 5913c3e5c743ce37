"""Private groups in the TUI: the Groups tab counts a private group's new messages (on its row and its label);
its screen shows them as this device read them, inert, each author verified, newest first; n writes, r replies and
l reacts, sealed for the members with the compose screen and the picker; the live stream's announcements bring new
messages in; what could not be read is shown with its reason, inert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, OptionList, Static, TabbedContent, TextArea

from murmur.client.api import ApiError, MurmurClient
from murmur.client.conversations import Conversations, inbox_path
from murmur.client.private_groups import PrivateGroups, groups_path
from murmur.client.tui.app import MurmurApp
from murmur.client.tui.screens.compose import ComposeScreen
from murmur.client.tui.screens.conversations import VERIFIED
from murmur.client.tui.screens.dialogs import REACTIONS, ReactionPicker
from murmur.client.tui.screens.group import INVITED_ONLY, GroupScreen
from murmur.client.tui.screens.passphrase import PassphraseScreen
from murmur.client.tui.widgets.groups import GroupEntry, GroupsPane
from murmur.client.tui.widgets.private_group import PrivateMessages
from murmur.group_chains import GroupKeys
from murmur.keys import fingerprint
from murmur.message import now_ms
from murmur.private_group import group_inner, seal_group
from murmur.store import vault
from murmur.store.group_inbox import GroupInbox
from murmur.store.inbox import Inbox, relock
from murmur.store.vault import is_sealed
from tests.dm_people import Device, Speaker
from tests.server.test_private_group_keyless_epochs import made_up
from tests.tui.conftest import ALICE, ME, LiveServer, make_app, ran_its_course, until


def label(app: MurmurApp) -> str:
    return str(app.main.query_one(TabbedContent).get_tab("groups").label)


def group_rows(app: MurmurApp) -> list[str]:
    return [str(e.render()) for e in app.main.query_one(GroupsPane).list.entries if isinstance(e, GroupEntry)]


def rows(app: MurmurApp) -> list[str]:
    if not isinstance(app.screen, GroupScreen) or not app.screen.is_private:
        return []
    found = app.screen.query_one("#pg-messages", OptionList)
    return [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]


def on_private_screen(app: MurmurApp) -> bool:
    return bool(rows(app)) and VERIFIED in rows(app)[0]


async def people(live: LiveServer, tmp_path: Path) -> tuple[Speaker, Speaker, PrivateGroups, MurmurApp]:
    """Me (in the app) and Ada (with her private groups), both identities the server knows."""
    me = Speaker.new(first=Device.of(ME))
    ada = Speaker.new(first=Device.of(ALICE))
    await live.ingest(*me.events, *ada.events)
    ada_talks = ada.devices[0].conversations(live.client(ALICE), ada.identity, tmp_path / "ada")
    ada_groups = PrivateGroups(ada_talks, ALICE, GroupInbox.open(tmp_path / "ada" / "groups.db"))
    app = make_app(
        live,
        tmp_path,
        conversations=lambda api: me.devices[0].conversations(api, me.identity, tmp_path / "me"),
        private_groups=lambda talks, typed: PrivateGroups(talks, ME, GroupInbox.open(tmp_path / "me" / "groups.db")),
    )
    return me, ada, ada_groups, app


async def test_a_private_group_is_read_written_reacted_to_and_followed_live(live: LiveServer, tmp_path: Path) -> None:
    me, ada, ada_groups, app = await people(live, tmp_path)
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [me.identity])
    await ada_groups.post(group, "hello [b]members[/b] \x1b[2J")

    async with app.run_test() as pilot:
        await until(pilot, lambda: label(app) == "Groups (1)")  # counted before the tab is looked at
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r and "1 new" in r for r in group_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: on_private_screen(app))
        [shown] = rows(app)
        assert "hello [b]members[/b]" in shown and "\x1b" not in shown  # inert: no markup, no escape
        assert fingerprint(ada.identity) in shown and VERIFIED in shown and "new" in shown

        await pilot.press("n")  # n on a private group writes a sealed post, never a public one
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        assert app.screen.direct is not None and not app.screen.query("#visibility")
        assert "Private post in organisers" in str(app.screen.query_one("#compose-title", Label).render())
        app.screen.query_one("#text", TextArea).insert("count me in")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(rows(app)) == 2)
        assert "count me in" in rows(app)[0] and "you" in rows(app)[0]  # newest first, as a timeline

        await pilot.press("G", "r")  # Ada's message (the oldest), then reply to it
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        app.screen.query_one("#text", TextArea).insert("see you friday")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(rows(app)) == 3)
        assert "see you friday" in rows(app)[0] and "reply to" in rows(app)[0] and "hello" in rows(app)[0]

        await pilot.press("g", "G", "l")  # the reaction picker, on Ada's message
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker))
        await pilot.press("1")
        await until(pilot, lambda: len(rows(app)) == 3 and f"{REACTIONS[0]} 1" in rows(app)[2])

        await ada_groups.post(group, "still there?")  # comes by the live stream's announcement
        await until(pilot, lambda: len(rows(app)) == 4 and "still there?" in rows(app)[0])
        await pilot.press("escape")
        await until(pilot, lambda: label(app) == "Groups" and not any("new" in r for r in group_rows(app)))

        await ada_groups.post(group, "and now?")  # the tab counts what comes while it is shown
        await until(pilot, lambda: label(app) == "Groups (1)")

        await pilot.press("n")  # a post written elsewhere is never offered the private group: it would go plain
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen) and app.screen.groups_offered is not None)
        assert app.screen.groups_offered == []
        await pilot.press("escape")

    await ada_groups.sync()
    mine = [p for p in ada_groups.timeline(group) if p.sender == me.identity]
    assert sorted((p.kind, p.text) for p in mine) == [("post", "count me in"), ("post", "see you friday"),
                                                      ("reaction", REACTIONS[0])]  # fmt: skip
    assert not await live.messages("post")  # nothing went out in the clear


async def test_what_cannot_be_read_is_shown_with_its_reason(live: LiveServer, tmp_path: Path) -> None:
    me, _, ada_groups, app = await people(live, tmp_path)
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [me.identity])
    # One group message sealed twice, under two outer messages: the second is a replay.
    keys = GroupKeys.from_json(ada_groups.store.keys(group))
    inner = group_inner("post", ada_groups.me, ALICE.public_key, "once [b]only[/b]", now_ms())
    sealed = [seal_group(keys, ALICE, inner, "local") for _ in range(2)]
    ada_groups.store.save_keys(group, "organisers", keys.to_json())
    for message in sealed:
        assert (await ada_groups.api.publish(message))["status"] == "stored"

    async with app.run_test() as pilot:
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r for r in group_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: len(rows(app)) == 2)
        read, refused = rows(app)
        assert "once [b]only[/b]" in read
        assert refused.startswith("refused ") and "replayed" in refused and sealed[1]["id"][:12] in refused
        pane = app.screen.query_one(PrivateMessages)  # relative times move on, as a timeline's do
        assert " · now" in read
        pane.tick(now_ms() + 3 * 3_600_000)
        assert " · 3h" in rows(app)[0] and "once [b]only[/b]" in rows(app)[0]
        await pilot.press("h")  # nobody hides a sealed message
        await until(pilot, lambda: any("sealed for the members" in n.message for n in app._notifications))


async def test_messages_naming_an_epoch_no_key_proves_are_one_counted_line(live: LiveServer, tmp_path: Path) -> None:
    """Anyone can send a group message naming an epoch no one holds: the screen counts them in one line, never a
    row each, and does not call them a fork."""
    me, _, ada_groups, app = await people(live, tmp_path)
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [me.identity])
    await ada_groups.post(group, "a real one")
    shape = GroupKeys.from_json(ada_groups.store.keys(group))
    for n in range(5):
        made = made_up(shape, ALICE, n, epoch=1 if n % 2 else 9)  # a held number under another id; one not held
        assert (await ada_groups.api.publish(made))["status"] == "stored"

    async with app.run_test() as pilot:
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r for r in group_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: len(rows(app)) == 2)
        read, waiting = rows(app)
        assert "a real one" in read
        assert waiting.startswith("not read 5 messages in an epoch this device holds no key for")
        assert "fork" not in waiting


async def test_a_sealed_store_opens_the_private_groups_with_the_passphrase_typed(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct messages' store is sealed: a private group says so until the passphrase is typed (once, for
    both), then reads; what it read rests sealed on disk, in a groups' store made sealed (not left plain)."""
    monkeypatch.setattr(vault, "DEFAULT_COST", vault.Cost(memory_kib=1024, iterations=1, lanes=1))
    me = Speaker.new(first=Device.of(ME))
    ada = Speaker.new(first=Device.of(ALICE))
    await live.ingest(*me.events, *ada.events)
    ada_talks = ada.devices[0].conversations(live.client(ALICE), ada.identity, tmp_path / "ada")
    ada_groups = PrivateGroups(ada_talks, ALICE, GroupInbox.open(tmp_path / "ada" / "groups.db"))
    group = await ada_groups.create("organisers")
    await ada_groups.invite(group, [me.identity])
    await ada_groups.post(group, "sealed at rest")
    key_path = tmp_path / "me" / "key"
    key_path.parent.mkdir()
    inbox = inbox_path(key_path)
    Inbox.open(inbox).close()
    relock(inbox, None, "right phrase")

    def mine(api: MurmurClient, typed: str | None = None) -> Conversations:
        return Conversations(api, me.devices[0].x25519, me.identity, Inbox.open(inbox, typed))

    app = make_app(live, tmp_path, conversations=mine, unlock_conversations=mine,
                   private_groups=lambda talks, typed: PrivateGroups.beside(talks, key_path, ME, typed))  # fmt: skip
    async with app.run_test() as pilot:
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r for r in group_rows(app)))
        await pilot.press("enter")
        note = lambda: str(app.screen.query_one("#pg-note", Static).render())  # noqa: E731
        await until(pilot, lambda: isinstance(app.screen, GroupScreen) and "Press 8" in note())
        app.open_direct()
        await until(pilot, lambda: isinstance(app.screen, PassphraseScreen) and bool(app.screen.query("#passphrase")))
        app.screen.query_one("#passphrase", Input).focus()
        await pilot.press(*"right phrase", "enter")
        await until(pilot, lambda: not isinstance(app.screen, PassphraseScreen))
        await pilot.press("6")
        await until(pilot, lambda: app.main.query_one(GroupsPane).list.current is not None)
        await pilot.press("enter")
        await until(pilot, lambda: on_private_screen(app))
        assert "sealed at rest" in rows(app)[0]
    stored = groups_path(key_path)
    assert is_sealed(stored) and b"sealed at rest" not in stored.read_bytes()
    assert [p.text for p in GroupInbox.open(stored, "right phrase").posts(group)] == ["sealed at rest"]


async def test_someone_not_invited_is_told_who_reads_it(live: LiveServer, tmp_path: Path) -> None:
    _, _, ada_groups, app = await people(live, tmp_path)
    group = await ada_groups.create("organisers")
    await ada_groups.post(group, "members only")
    async with app.run_test() as pilot:
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r for r in group_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: bool(rows(app)) and "Only its members read a private group" in rows(app)[0])
        assert not any("members only" in r for r in rows(app))
        await pilot.press("n")  # writing is refused with what to do, nothing sent
        await until(pilot, lambda: isinstance(app.screen, ComposeScreen))
        app.screen.query_one("#text", TextArea).insert("let me in")
        await pilot.press("ctrl+s")
        error = lambda: str(app.screen.query_one("#compose-error", Static).render())  # noqa: E731
        await until(pilot, lambda: "holds no key" in error())


async def test_an_invitation_lists_the_group_live_without_a_restart(live: LiveServer, tmp_path: Path) -> None:
    me, _, ada_groups, app = await people(live, tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("6")  # the Groups tab, loaded before the invitation
        await until(pilot, lambda: app.main.query_one(TabbedContent).active == "groups")
        await ran_its_course(pilot)  # the tab's list is loaded: the group is not in it yet
        assert not any("organisers" in r for r in group_rows(app))
        group = await ada_groups.create("organisers")
        await ada_groups.invite(group, [me.identity])  # its epoch key is sealed to my device: the stream says so
        await until(pilot, lambda: any("organisers" in r and "member" in r for r in group_rows(app)))
        await ada_groups.post(group, "welcome")
        await until(pilot, lambda: label(app) == "Groups (1)")


def footer_actions(app: MurmurApp) -> set[str]:
    """The actions the footer shows: the screen's bindings in force that are shown."""
    return {active.binding.action for active in app.screen.active_bindings.values() if active.binding.show}


async def test_a_private_groups_screen_offers_no_join(live: LiveServer, tmp_path: Path) -> None:
    """People come into a private group by a moderator's invitation: its screen neither shows J nor acts on it,
    and says who lets people in. X (leave) stays, as on any group's screen."""
    _, _, ada_groups, app = await people(live, tmp_path)
    await ada_groups.create("organisers")
    async with app.run_test() as pilot:
        await pilot.press("6")
        await until(pilot, lambda: any("organisers" in r for r in group_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: {"leave_group", "members"} <= footer_actions(app)
                    and "join_group" not in footer_actions(app))  # fmt: skip
        assert isinstance(app.screen, GroupScreen) and app.screen.is_private
        assert INVITED_ONLY in str(app.screen.query_one("#group-head", Static).render())
        await pilot.press("J")
        await ran_its_course(pilot)
        assert not await live.messages("group_join")


def app_failing(live: LiveServer, tmp_path: Path, me: Speaker, group: str, error: ApiError) -> MurmurApp:
    """Me in the app, its home server answering ``error`` to every fetch of ``group``'s signed log."""

    def failing(talks: Conversations, typed: str | None) -> PrivateGroups:
        real = talks.api.request

        async def one_failing(method: str, path: str, **kw: Any) -> Any:
            if f"/groups/{group}/log" in path:
                raise error
            return await real(method, path, **kw)

        talks.api.request = one_failing  # type: ignore[method-assign]
        return PrivateGroups(talks, ME, GroupInbox.open(tmp_path / "me" / "groups.db"))

    mine = tmp_path / "me"
    return make_app(live, tmp_path, private_groups=failing,
                    conversations=lambda api: me.devices[0].conversations(api, me.identity, mine))  # fmt: skip


async def test_a_private_group_the_sync_could_not_read_is_said_inert_and_the_others_are_counted(
    live: LiveServer, tmp_path: Path
) -> None:
    me, _, ada_groups, _ = await people(live, tmp_path)
    board = await ada_groups.create("board")
    other = await ada_groups.create("organisers")
    for group in (board, other):
        await ada_groups.invite(group, [me.identity])
    before = PrivateGroups(me.devices[0].conversations(live.client(ME), me.identity, tmp_path / "me"), ME,
                           GroupInbox.open(tmp_path / "me" / "groups.db"))  # fmt: skip
    await before.sync()  # both held here: a later sync reads each group's log again
    before.close()
    await ada_groups.post(other, "in the other")

    limited = ApiError(429, "rate_limited", "[b]Too many[/b] requests \x1b[2J; try again in 60 s.")
    app = app_failing(live, tmp_path, me, board, limited)
    async with app.run_test() as pilot:
        await until(pilot, lambda: label(app) == "Groups (1)")  # the other group is read all the same
        await until(pilot, lambda: any("not read this time" in n.message for n in app._notifications))
        [note] = [n.message for n in app._notifications if "not read this time" in n.message]
        assert note.startswith("board") and "[b]Too many[/b] requests" in note and "\x1b" not in note
        assert all(not n.markup for n in app._notifications if "not read this time" in n.message)


async def test_a_group_invited_to_whose_log_fails_at_the_first_sync_is_said_once(
    live: LiveServer, tmp_path: Path
) -> None:
    """The device holds no key of the group yet: its failure is said all the same, by the group's id, once however
    many syncs it lasts; the other group it was invited to is read and counted all the same."""
    me, _, ada_groups, _ = await people(live, tmp_path)
    board = await ada_groups.create("board")
    other = await ada_groups.create("organisers")
    for group in (board, other):
        await ada_groups.invite(group, [me.identity])
    await ada_groups.post(other, "in the other")

    app = app_failing(live, tmp_path, me, board, ApiError(503, "unavailable", "The server is busy."))

    def said() -> list[str]:
        return [n.message for n in app._notifications if "not read this time" in n.message]

    async with app.run_test() as pilot:
        await until(pilot, lambda: bool(said()))
        assert said()[0].startswith(board[:16]) and "The server is busy." in said()[0]
        pane = app.main.query_one(GroupsPane)
        for _ in range(2):  # later syncs, the log still failing: the other group is read after it at the latest
            pane.count_fresh()
            await ran_its_course(pilot)
        await until(pilot, lambda: label(app) == "Groups (1)")
        assert len(said()) == 1


async def test_a_failure_is_said_again_only_once_its_group_was_read_between(live: LiveServer, tmp_path: Path) -> None:
    """A group held here is tried at every sync: absent from one sync's failures, it was read, and a new failure is
    said. One not held yet may be left untried by a sync (the look-up budget, a back-off): still said once."""
    _, _, _, app = await people(live, tmp_path)
    async with app.run_test() as pilot:
        pane = app.main.query_one(GroupsPane)
        held, invited = "a" * 64, "b" * 64
        for failed in ({held: "busy", invited: "busy"}, {}, {held: "busy", invited: "busy"}):
            pane._say_failed(failed, {held: "board"})
        await pilot.pause()
        notes = [n.message for n in app._notifications if "not read this time" in n.message]
        assert sorted(n.split(" ")[0] for n in notes) == sorted(["board", "board", invited[:16]])
