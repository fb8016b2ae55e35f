"""JSON text for what the archive stores, in one compact, deterministic
form (UTF-8, no spaces), written by orjson where it can (several times
faster than the standard library on the import path) and by the standard
library for what orjson refuses (integers beyond 64 bits)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any, sort_keys: bool = False) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parse JSON with orjson; what it refuses (integers beyond 64 bits, NaN)
    or cannot parse goes to the standard library, whose error says where."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
