"""A scripted model for tests and demos: it never reaches a network.

>>> from eucora_license.testing import ScriptedModel
>>> model = ScriptedModel({"consumption_discovery": {"mapping": {"sku": "autocad"}}})
>>> model('{"agent": "consumption_discovery", "purpose": "mapping"}')
'{"sku":"autocad"}'

Give it to :func:`eucora_license.run_agent` as ``model``. It answers like the
CLI's ``agent run --responses R.json`` (the Rust ``ScriptedModel``), so the
same map gives the same run record in both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ScriptedModel"]


def _text(reply: Any) -> str:
    # A reply that is not a str is sent as its compact JSON text with sorted
    # keys: what the Rust ScriptedModel sends for the same map.
    if isinstance(reply, str):
        return reply
    return json.dumps(reply, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ScriptedModel:
    """A model answering from a script.

    ``replies``: either ``{agent: {purpose: reply | [replies]}}`` (a list is
    consumed in order, its last reply then repeated; a reply that is not a
    ``str`` is sent as its JSON text; a request with no reply raises
    ``LookupError``, which the runner records as a failed model call), or a
    function of the parsed request (``{agent, purpose, system, prompt,
    response_schema}``) returning the reply text (it may raise, too).

    ``model_id`` is the id :func:`eucora_license.run_agent` records in each
    call. ``calls`` lists the parsed requests received, in order.
    """

    def __init__(
        self,
        replies: Mapping[str, Mapping[str, Any]] | Callable[[dict[str, Any]], str],
        model_id: str = "scripted",
    ) -> None:
        if not isinstance(model_id, str):
            raise TypeError(f"model_id must be a str, not {type(model_id).__name__}")
        self.model_id: str = model_id
        self.calls: list[dict[str, Any]] = []
        self._func: Callable[[dict[str, Any]], str] | None = None
        self._replies: dict[tuple[str, str], list[str]] = {}
        self._used: dict[tuple[str, str], int] = {}
        if callable(replies):
            self._func = replies
            return
        if not isinstance(replies, Mapping):
            raise TypeError("replies must be {agent: {purpose: reply or [replies]}} or a function of the request")
        for agent, per in replies.items():
            if not isinstance(per, Mapping):
                raise TypeError(f"replies[{agent!r}] must be a mapping {{purpose: reply or [replies]}}")
            for purpose, r in per.items():
                items = list(r) if isinstance(r, list) else [r]
                self._replies[(str(agent), str(purpose))] = [_text(x) for x in items]

    def __call__(self, request: str) -> str:
        req: dict[str, Any] = json.loads(request)
        self.calls.append(req)
        if self._func is not None:
            return self._func(req)
        key = (str(req.get("agent")), str(req.get("purpose")))
        replies = self._replies.get(key)
        if not replies:
            raise LookupError(f"no scripted reply for {key[0]}/{key[1]}")
        n = self._used.get(key, 0)
        self._used[key] = n + 1
        return replies[min(n, len(replies) - 1)]

    def __repr__(self) -> str:
        return f"ScriptedModel(model_id={self.model_id!r})"
