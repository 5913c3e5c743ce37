"""People who sign real messages for the store tests (imported by conftest and the tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from murmur.keys import Identity
from murmur.message import sign_draft

T0 = 1_700_000_000_000  # milliseconds; safely in the past for the future-skew rule


class Person:
    """Signs drafts of every kind for one identity; ``at`` overrides the clock for ordering tests."""

    def __init__(self, identity: Identity, clock: Iterator[int]) -> None:
        self.identity = identity
        self.key = identity.public_key
        self._clock = clock

    def sign(self, kind: str, body: dict[str, Any], tags: list[list[str]], at: int | None) -> dict[str, Any]:
        draft = {"kind": kind, "body": body, "tags": tags}
        return sign_draft(self.identity, draft, created_at=next(self._clock) if at is None else at)

    def post(
        self,
        text: str = "hello",
        *,
        reply: dict[str, Any] | None = None,
        visibility: str = "public",
        mentions: tuple[str, ...] = (),
        hashtags: tuple[str, ...] = (),
        at: int | None = None,
    ) -> dict[str, Any]:
        tags: list[list[str]] = []
        if reply is not None:
            root = next((v for n, v in reply["tags"] if n == "root"), reply["id"])
            tags += [["reply", reply["id"]], ["root", root]]
        tags += [["mention", k] for k in mentions] + [["hashtag", h] for h in hashtags]
        return self.sign("post", {"text": text, "visibility": visibility}, tags, at)

    def edit(
        self, target: dict[str, Any], text: str, *, cw: str = "", hashtags: tuple[str, ...] = (), at: int | None = None
    ) -> dict[str, Any]:
        body = {"text": text, "cw": cw} if cw else {"text": text}
        return self.sign("edit", body, [["target", target["id"]], *(["hashtag", h] for h in hashtags)], at)

    def react(self, target: dict[str, Any], emoji: str = "+1", at: int | None = None) -> dict[str, Any]:
        return self.sign("reaction", {"emoji": emoji}, [["target", target["id"]]], at)

    def boost(self, target: dict[str, Any], at: int | None = None) -> dict[str, Any]:
        return self.sign("boost", {}, [["target", target["id"]]], at)

    def delete(self, target: dict[str, Any], at: int | None = None) -> dict[str, Any]:
        return self.sign("delete", {}, [["target", target["id"]]], at)

    def follow(self, subject: Person, at: int | None = None) -> dict[str, Any]:
        return self.sign("follow", {}, [["subject", subject.key]], at)

    def unfollow(self, subject: Person, at: int | None = None) -> dict[str, Any]:
        return self.sign("unfollow", {}, [["subject", subject.key]], at)

    def profile(self, name: str, bio: str = "", at: int | None = None) -> dict[str, Any]:
        return self.sign("profile", {"name": name, "bio": bio}, [], at)
