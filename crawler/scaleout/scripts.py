"""The scale-out's Redis Lua scripts, one file each in lua/ (each atomic on the server: one step per decision)."""

from __future__ import annotations

from importlib.resources import files

_LUA = files(__package__) / "lua"


def _script(name: str, *, clock: bool = True) -> str:
    """The script lua/<name>.lua; with `clock`, after the snippet that sets `now` from the server's TIME (ms)."""
    body = (_LUA / f"{name}.lua").read_text(encoding="utf-8")
    return ((_LUA / "_server_now.lua").read_text(encoding="utf-8") + body) if clock else body


def ms(seconds: float) -> int:
    """Seconds as the whole milliseconds the scripts take."""
    return int(round(seconds * 1000))


# The frontier (frontier.py): leases, their renewal and expiry, run membership.
ENQUEUE = _script("enqueue", clock=False)
POP_LEASE = _script("pop_lease")
RENEW = _script("renew")
REAP = _script("reap")
JOIN = _script("join")
KEEP_ALIVE = _script("keep_alive", clock=False)
LEAVE = _script("leave")
# The pace per site (pace.py).
CLAIM = _script("claim")
PUBLISH = _script("publish")
