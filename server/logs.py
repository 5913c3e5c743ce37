"""The server's log on stderr: ``text`` (the default, one line per event) or ``json`` (one JSON object per line).

Both carry the time, the level, the logger, the message and the event's context fields (what a call passed as
``extra=``, such as ``peer`` and ``failures``), and an exception's traceback when there is one.

Much of what is logged came from elsewhere: a peer's error text, a refusal code it sent, a URL. Both formats keep
such text inert, so it can neither forge a log line nor act on the terminal that shows the log:
- text: the message and every field go through ``murmur.terminal.inert`` on one line (a newline shows as ␊, an
  escape as ␛); a traceback's lines are indented, so only a record's own first line starts at the margin;
- json: ``murmur.terminal.json_line``, whose escapes keep control, C1 and bidi characters out of the bytes while a
  log reader decodes the values unchanged.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from murmur.terminal import inert, json_line

# Every attribute a LogRecord has of its own: whatever else a record carries came from ``extra=``.
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def context(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a log call added with ``extra=``."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS and not k.startswith("_")}


def _when(record: logging.LogRecord) -> str:
    """RFC 3339 in UTC, to the millisecond."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _plain(value: Any) -> Any:
    """A context value as JSON has it: numbers, booleans and None as themselves, anything else as its text."""
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


class TextFormatter(logging.Formatter):
    """``2026-11-23 08:30:55,123 WARNING murmur.federation: message key=value ...``, one line per record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = inert(record.message, keep_newlines=False)
        line = super().formatMessage(record)
        fields = " ".join(f"{inert(str(k), keep_newlines=False)}={_field(v)}" for k, v in context(record).items())
        return f"{line} {fields}" if fields else line

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(stack_info)


def _field(value: Any) -> str:
    text = inert(str(value), keep_newlines=False)
    return text if text and " " not in text and '"' not in text else json_line(text)


def _indented(text: str) -> str:
    return "\n".join("    " + inert(line, keep_newlines=False) for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    """``{"time": ..., "level": "warning", "logger": ..., "message": ..., FIELDS..., "exception": ...}``"""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _when(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in context(record).items():
            out.setdefault(key, _plain(value))  # a field never hides one of the four above
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json_line(out)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(log_format: str, level: int = logging.WARNING) -> None:
    """Send every log record to stderr in ``log_format`` ("text" or "json"), replacing any earlier set-up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def announce(log_format: str, message: str, **fields: Any) -> None:
    """A line a start or a stop always prints, whatever the level: as it is in text (the docs and `murmur up`
    show it so), as an ``info`` record with its fields in json, so that every line of a json log is JSON."""
    if log_format == "json":
        record = logging.LogRecord("murmur.server", logging.INFO, __file__, 0, message, (), None)
        record.__dict__.update(fields)
        line = JsonFormatter().format(record)
    else:
        line = inert(message, keep_newlines=False)
    print(line, file=sys.stderr, flush=True)
