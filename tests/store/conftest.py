"""Store test fixtures: people who sign real messages with a shared, steadily advancing clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from store_people import T0, Person

from murmur.keys import Identity


@pytest.fixture
def clock() -> Iterator[int]:
    return itertools.count(T0, 1000)


def _person(seed: int, clock: Iterator[int]) -> Person:
    return Person(Identity.from_seed(bytes([seed]) * 32), clock)


@pytest.fixture
def ann(clock: Iterator[int]) -> Person:
    return _person(11, clock)


@pytest.fixture
def ben(clock: Iterator[int]) -> Person:
    return _person(12, clock)


@pytest.fixture
def cat(clock: Iterator[int]) -> Person:
    return _person(13, clock)


@pytest.fixture
def dan(clock: Iterator[int]) -> Person:
    return _person(14, clock)
