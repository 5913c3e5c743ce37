"""Stands in for a newer murmur in the mixed-version tests: today's program with one more kind, ``survey``.

``python -m tests.e2e.newer serve ...`` registers the kind below in ``murmur.kinds`` before anything validates
or stores a message, then runs the ordinary CLI. A server started this way accepts surveys from its members and
validates them by their own rules; a server started the ordinary way plays the older version, which has never
heard of surveys and can only carry them (murmur.kinds.unknown).
"""

from __future__ import annotations

import sys

from murmur.kinds.base import Field, Kind

KIND = Kind(
    name="survey",
    body={"question": Field(True, 300), "options": Field(True, 1000)},
    tags={"reply": (0, 1), "root": (0, 1)},
)

if __name__ == "__main__":
    from murmur import kinds

    kinds.register(sys.modules[__name__])
    from murmur.client.cli.main import main

    main()
