"""A message of a kind this version does not know: carried, so that servers of different versions converge.

A newer peer may send a kind this server has no module for. Its envelope, id and signature verify as any
message's do, and its body and tags are checked for shape only (``murmur.validate``: docs/protocol.md §7.3).
The store then keeps it as a public message with no effect: it is relayed by push, pull and repair, and named
by the audience rule through its ``reply``, ``root`` and ``target`` tags (a message about a local post stays
here), but nothing is derived from it: no mention, hashtag or search index, no notice, no state, never a
timeline or thread entry. A delete by its author removes it, as a post's would: whatever the newer version
means by the kind, its author asked for it gone. And it goes with its ``target`` when that names its author's
own message and the author deletes it (``with_target``, as an edit goes with its post): a server that kept it
would hold what the author took back, and offer it to its peers, who dropped it, on every repair round.

A member's own door does not take one (``murmur.store.audience.signed_by``): a home server answers for what
its members publish, and it cannot show them, nor apply the audience of, what it does not know.
"""

from __future__ import annotations

import re

from murmur.kinds.base import Kind

NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""What any version's kind names, tag names and body member names look like: lowercase ASCII, at most 32."""

KIND = Kind(name="", removable=True, indexed=False, with_target=True)
