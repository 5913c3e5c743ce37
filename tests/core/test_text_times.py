"""Short forms of time: since a moment (``ago``) and until one (``left``), both from the same units."""

from __future__ import annotations

import pytest

from murmur.text import ago, left

NOW = 1_750_000_000_000


@pytest.mark.parametrize(
    ("delta_s", "said"), [(0, "now"), (4, "now"), (42, "42s"), (300, "5m"), (3 * 3600, "3h"), (2 * 86400, "2d")]
)
def test_ago_and_left_say_the_same_span_either_way(delta_s: int, said: str) -> None:
    assert ago(NOW - delta_s * 1000, NOW) == said
    assert left(NOW + delta_s * 1000, NOW) == (said if delta_s >= 5 else ("now" if delta_s == 0 else f"{delta_s}s"))


def test_a_moment_far_away_is_a_date_behind_and_days_ahead() -> None:
    assert ago(NOW - 40 * 86400 * 1000, NOW) == "2025-05-06"
    assert left(NOW + 40 * 86400 * 1000, NOW) == "40d"  # a poll closing in six weeks, never a date in the past
    assert left(NOW - 1000, NOW) == "now"
