"""JSON for the requests of the Redis frontier (scrapy-redis `SCHEDULER_SERIALIZER`): nothing read from Redis is
ever unpickled, so whoever can write to Redis can queue a URL, but not run code on the workers.

scrapy-redis hands `dumps` the output of `Request.to_dict(spider=…)` (callbacks already by method name) and builds
the request back from what `loads` returns with `request_from_dict`. Bytes (body, header values) are the only
non-JSON values in it. `loads` also refuses what `request_from_dict` would turn into a call we never queue: a
request class (`_class` is imported and called) or a callback that is not one of the spider's parse*/on_* methods.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

BYTES_TAG = "__b64__"
CALLBACK_NAME = re.compile(r"(parse|on)(_[a-z0-9_]+)?")
MAX_PAYLOAD = 1_000_000  # bytes: a queued request is a URL, headers and a few meta values


class RefusedPayload(ValueError):
    """A frontier entry that is not a request we wrote (not JSON, or asks for more than a plain Request)."""


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(_str_keys(obj), default=_encode, separators=(",", ":"), ensure_ascii=False)


def _str_keys(value: Any) -> Any:
    """Header names are bytes keys; JSON keys are text (latin-1 is lossless, and Headers takes either)."""
    if isinstance(value, dict):
        return {k.decode("latin-1") if isinstance(k, bytes) else k: _str_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_str_keys(v) for v in value]
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"a queued request cannot carry a {type(value).__name__} (JSON frontier)")


def loads(data: bytes | str) -> dict[str, Any]:
    if len(data) > MAX_PAYLOAD:
        raise RefusedPayload(f"frontier entry of {len(data)} bytes")
    try:
        obj = json.loads(data, object_hook=_decode)
    except (ValueError, TypeError) as exc:  # pickle and other binary data end here, unexecuted
        raise RefusedPayload(f"not a JSON request ({exc.__class__.__name__})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise RefusedPayload("not a request object")
    if "_class" in obj:
        raise RefusedPayload(f"request class {str(obj['_class'])[:80]!r} refused")
    for key in ("callback", "errback"):
        name = obj.get(key)
        if name is not None and not (isinstance(name, str) and CALLBACK_NAME.fullmatch(name)):
            raise RefusedPayload(f"{key} {str(name)[:80]!r} refused")
    return obj


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and BYTES_TAG in obj:
        return base64.b64decode(obj[BYTES_TAG], validate=True)
    return obj
