"""Numbers from a request's query string and headers, all through ``murmur.numbers.parse_number``.

A parameter or header given twice is refused rather than resolved (Starlette's ``get`` would pick one): two
values for one number means the sender and this server may not agree on which one counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request

from murmur.errors import Refused
from murmur.numbers import parse_number


def _once(values: Sequence[str], name: str, code: str) -> str | None:
    if len(values) > 1:
        raise Refused(code, f"{name} is given {len(values)} times; give it once.")
    return values[0] if values else None


def query_text(request: Request, name: str, *, code: str) -> str | None:
    """The query parameter ``name`` as given once, or None when it is absent."""
    return _once(request.query_params.getlist(name), name, code)


def optional_query_number(request: Request, name: str, *, low: int, high: int, code: str) -> int | None:
    """The query parameter ``name`` as a number in ``[low, high]``, or None when it is absent."""
    text = _once(request.query_params.getlist(name), name, code)
    return None if text is None else parse_number(text, name=name, low=low, high=high, code=code)


def query_number(request: Request, name: str, *, default: int, low: int, high: int, code: str) -> int:
    """The query parameter ``name`` as a number in ``[low, high]``, or ``default`` when it is absent."""
    found = optional_query_number(request, name, low=low, high=high, code=code)
    return default if found is None else found


def header_number(request: Request, name: str, *, low: int, high: int, code: str) -> int | None:
    """The header ``name`` as a number in ``[low, high]``, or None when it is absent."""
    text = _once(request.headers.getlist(name), f"The {name} header", code)
    return None if text is None else parse_number(text, name=f"The {name} header", low=low, high=high, code=code)
