"""The `push_status` envelope: full reports, P1/A1-style deltas and the merge that undoes them."""

from collections.abc import Mapping
from typing import Any, Final

type JsonDict = dict[str, Any]

_CONTAINERS: Final = (dict, list)


def copy_json(value: Any) -> Any:
    """Deep-copy JSON-like data (much faster than copy.deepcopy for dicts, lists and scalars)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) not in _CONTAINERS else copy_json(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) not in _CONTAINERS else copy_json(v) for v in value]
    return value


def _is_id_list(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(item, dict) and "id" in item for item in value)


def diff_report(current: JsonDict, sent: JsonDict) -> JsonDict:
    """Return what changed from `sent` to `current`, the way P1/A1 printers send deltas.

    Nested objects carry only their changed keys; lists of objects with an `id` (AMS units,
    trays) carry only the changed elements, each with its `id`; other lists are sent whole.
    """
    out: JsonDict = {}
    for key, value in current.items():
        if key not in sent:
            out[key] = copy_json(value)
            continue
        old = sent[key]
        if value == old and type(value) is type(old):
            continue
        if isinstance(value, dict) and isinstance(old, dict):
            sub = diff_report(value, old)
            if sub:
                out[key] = sub
        elif (
            isinstance(value, list)
            and isinstance(old, list)
            and _is_id_list(value)
            and _is_id_list(old)
            and [item["id"] for item in value] == [item["id"] for item in old]
        ):
            changed = [
                {"id": new["id"], **diff_report(new, prev)}
                for new, prev in zip(value, old, strict=True)
                if new != prev
            ]
            if changed:
                out[key] = changed
        else:
            out[key] = copy_json(value)
    return out


def merge_report(base: JsonDict, delta: Mapping[str, Any]) -> None:
    """Merge a delta into `base` in place: dicts recursively, `id` lists element-wise by id."""
    for key, value in delta.items():
        old = base.get(key)
        if isinstance(value, Mapping) and isinstance(old, dict):
            merge_report(old, value)
        elif isinstance(value, list) and isinstance(old, list) and _is_id_list(value):
            by_id = {item.get("id"): item for item in old if isinstance(item, dict)}
            for item in value:
                target = by_id.get(item["id"])
                if target is None:
                    old.append(copy_json(item))
                else:
                    merge_report(target, item)
        else:
            base[key] = copy_json(value)


class ReportStream:
    """What a printer has published: the sequence id and the state its deltas build on."""

    def __init__(
        self, current: JsonDict, *, sequence: int, full_reports: bool, has_msg: bool
    ) -> None:
        self._sequence = sequence
        self._sent: JsonDict = copy_json(current)
        self._full_reports = full_reports
        self._has_msg = has_msg

    def full(self, current: JsonDict) -> JsonDict:
        """Return the whole object as a fresh report without publishing it.

        It carries the sequence id of the last report sent, so merging every delta sent so far
        onto an earlier full report reproduces it exactly.
        """
        return self._wrap(copy_json(current))

    def periodic(self, current: JsonDict) -> JsonDict | None:
        """Publish the next periodic report: full or changed fields only (None: no change)."""
        if self._full_reports:
            self._sequence += 1
            return self._wrap(copy_json(current))
        delta = diff_report(current, self._sent)
        if not delta:
            return None
        merge_report(self._sent, delta)
        self._sequence += 1
        return self._wrap(delta)

    def publish_full(self, current: JsonDict) -> JsonDict:
        """Publish a full report (`pushall`): a new sequence id and a new delta baseline."""
        self._sequence += 1
        self._sent = copy_json(current)
        return self._wrap(copy_json(current))

    def _wrap(self, body: JsonDict) -> JsonDict:
        body["command"] = "push_status"
        if self._has_msg:
            body["msg"] = 0
        body["sequence_id"] = str(self._sequence)
        return {"print": body}
