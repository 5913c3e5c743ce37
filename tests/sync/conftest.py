"""Repair and bundle tests share the in-process network of the federation tests."""

from __future__ import annotations

from tests.federation.conftest import net

__all__ = ["net"]
