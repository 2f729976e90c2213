"""JSON from outside, with a bound on nesting: `json.loads` recurses once per level, so a body of 30,000 `[` is a
RecursionError deep inside the parser. Counting brackets first (outside strings) refuses it with a ValueError."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


def loads(data: bytes | bytearray | str, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing (ValueError) text nested deeper than `max_depth` or that is not UTF-8 JSON."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise ValueError(f"JSON nested deeper than {max_depth} levels")
        elif char in "]}":
            depth -= 1
    return json.loads(text)
