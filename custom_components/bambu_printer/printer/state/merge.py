"""Merging a `print` report into the state: deltas and full reports alike, within limits.

X1/H2-class printers send the whole `print` object every time; P1/A1-class printers send only
what changed. Both merge into one state: nested objects recursively, `ams.ams[]` and each
unit's `tray[]` element-wise by `id`, other lists replaced. A full report (a pushall answer,
an X1/H2 periodic report) also removes the AMS units, trays and nested fields it no longer
lists; top-level fields are never removed.

Merging is cheap by design: the state below the top level is never modified in place. A change
copies only the objects on its path, unchanged objects keep their identity, and C-level
comparisons skip unchanged subtrees. Values are taken by reference when they are within the
limits, so a caller must not modify a report after merging it. Oversized strings and lists
are dropped, never merged; nothing here raises on malformed input.
"""

import logging
from collections.abc import Iterable, Mapping
from itertools import compress, repeat
from operator import ne
from typing import Any, Final

from .tables import MAX_DEPTH, MAX_KEY_LENGTH, MAX_KEYS, MAX_LIST, MAX_STRING

_LOGGER = logging.getLogger(__name__)

# Bookkeeping fields that change with every report and mean nothing to entities.
_IGNORED_KEYS: Final = frozenset({"command", "sequence_id", "msg", "t_utc"})
# Present together only in full reports (pushall answers, X1/H2 periodic reports): every
# capture's full report has them all, deltas almost never repeat them all at once.
_FULL_REPORT_KEYS: Final = frozenset(
    {
        "gcode_state",
        "nozzle_temper",
        "bed_temper",
        "wifi_signal",
        "ipcam",
        "lights_report",
        "upgrade_state",
    }
)
# Lists merged element-wise by `id`: `ams.ams[]` and each unit's `tray[]`.
_ID_LISTS: Final = frozenset({"ams", "tray"})

_MISSING: Final[Any] = object()
_DROP: Final[Any] = object()
# JSON values that are taken as they are: nothing inside them to merge or bound.
SCALAR_TYPES: Final = frozenset({int, float, bool, type(None)})


def is_full_report(print_body: Mapping[str, Any]) -> bool:
    """Whether a `print` report is a full one, listing every field, AMS unit and tray.

    `msg` 0 (or none, as H2D sends) alone is not proof: some senders mark deltas msg 0 too,
    so a full report must also carry the objects every full report carries.
    """
    msg = print_body.get("msg", 0)
    return type(msg) is int and msg == 0 and print_body.keys() >= _FULL_REPORT_KEYS


def merge_report(state: dict[str, Any], body: dict[Any, Any]) -> list[str]:
    """Merge one `print` status report into `state`; return the top-level keys it changed."""
    if len(body) > MAX_KEYS:
        _LOGGER.debug("Dropped a report with %d fields", len(body))
        return []
    full = is_full_report(body)
    changed = []
    for key in _changed_keys(state, body):
        if type(key) is not str or len(key) > MAX_KEY_LENGTH or key in _IGNORED_KEYS:
            continue
        before = state.get(key, _MISSING)
        after = body[key]
        if type(after) not in SCALAR_TYPES:  # scalars need no merging
            after = _merge_value(before, after, key, 1, full)
            if after is _DROP or after is before:
                continue
        if before is _MISSING and len(state) >= MAX_KEYS:
            _LOGGER.debug("Dropped %r from a report: state is full", _short(key))
            continue
        state[key] = after
        changed.append(key)
    return changed


def _changed_keys(old: dict[str, Any], new: dict[Any, Any]) -> list[Any]:
    """Keys of `new` whose value differs from `old` (deep comparison, done in C)."""
    return list(compress(new, map(ne, map(old.get, new, repeat(_MISSING)), new.values())))


def _clean(value: Any, depth: int) -> bool:
    """Whether `value` is JSON-like and within the size limits all the way down."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_STRING
    if kind is dict:
        return (
            depth <= MAX_DEPTH
            and len(value) <= MAX_KEYS
            and all(type(key) is str and len(key) <= MAX_KEY_LENGTH for key in value)
            and _clean_items(value.values(), depth)
        )
    if kind is list:
        return depth <= MAX_DEPTH and len(value) <= MAX_LIST and _clean_items(value, depth)
    return kind in SCALAR_TYPES


def _clean_items(items: Iterable[Any], depth: int) -> bool:
    for item in items:
        kind = type(item)
        if kind is str:
            if len(item) > MAX_STRING:
                return False
        elif kind is dict or kind is list:
            if not _clean(item, depth + 1):
                return False
        elif kind not in SCALAR_TYPES:
            return False
    return True


def _prune(value: Any, depth: int, key: object) -> Any:
    """Copy `value` without the parts that break the limits; _DROP when it breaks them itself."""
    kind = type(value)
    problem = None
    if kind is str:
        problem = f"string of {len(value)} characters" if len(value) > MAX_STRING else None
    elif kind is dict or kind is list:
        if depth > MAX_DEPTH:
            problem = f"nested deeper than {MAX_DEPTH}"
        elif len(value) > (MAX_KEYS if kind is dict else MAX_LIST):
            problem = f"{kind.__name__} of {len(value)} items"
    elif kind not in SCALAR_TYPES:
        problem = f"not JSON ({kind.__name__})"
    if problem is not None:
        _LOGGER.debug("Dropped %r from a report: %s", _short(key), problem)
        return _DROP
    if kind is dict:
        pruned = {}
        for item_key, item in value.items():
            if type(item_key) is str and len(item_key) <= MAX_KEY_LENGTH:
                kept = _prune(item, depth + 1, item_key)
                if kept is not _DROP:
                    pruned[item_key] = kept
        return pruned
    if kind is list:
        return [kept for item in value if (kept := _prune(item, depth + 1, key)) is not _DROP]
    return value


def _short(key: object) -> object:
    """Shorten a key for a log line: reports may carry huge junk keys."""
    return key[:64] + "..." if type(key) is str and len(key) > 64 else key


def _adopt(value: Any, depth: int, key: object) -> Any:
    """Take a new value into the state: by reference when clean, else a pruned copy."""
    return value if _clean(value, depth) else _prune(value, depth, key)


def _merge_value(old: Any, new: Any, key: object, depth: int, full: bool) -> Any:
    """Merge `new` over `old`; returns `old` itself when nothing changed, _DROP when invalid."""
    kind = type(new)
    if kind in SCALAR_TYPES:
        return new
    if kind is dict and type(old) is dict:
        return _merge_dict(old, new, depth, full)
    if kind is list and key in _ID_LISTS and type(old) is list and len(new) <= MAX_LIST:
        return _merge_by_id(old, new, depth, full, key)
    return _adopt(new, depth, key)


def _merge_dict(old: dict[str, Any], new: dict[Any, Any], depth: int, full: bool) -> Any:
    if depth > MAX_DEPTH or len(new) > MAX_KEYS:
        _LOGGER.debug("Dropped an object from a report: too deep or too many keys")
        return old
    out: dict[str, Any] | None = None
    for key in _changed_keys(old, new):
        if type(key) is not str or len(key) > MAX_KEY_LENGTH:
            continue
        before = old.get(key, _MISSING)
        after = new[key]
        if type(after) not in SCALAR_TYPES:  # scalars need no merging
            after = _merge_value(before, after, key, depth + 1, full)
            if after is _DROP or after is before:
                continue
        if out is None:
            out = dict(old)
        if before is _MISSING and len(out) >= MAX_KEYS:
            _LOGGER.debug("Dropped %r from a report: object is full", _short(key))
            continue
        out[key] = after
    if full:
        # A full report carries whole objects: fields it no longer lists are gone (a tray
        # that became empty is reported as just {"id": ..., "state": 0}).
        gone = old.keys() - new.keys()
        if gone:
            if out is None:
                out = dict(old)
            for key in gone:
                del out[key]
    return old if out is None else out


def _element_id(item: Any) -> str | None:
    if type(item) is not dict:
        return None
    value = item.get("id")
    if type(value) is str:
        return value if len(value) <= 64 else None
    if type(value) is int:
        return str(value) if -(10**9) < value < 10**9 else None
    return None


def _merge_same_ids(old: list[Any], new: list[Any], depth: int, full: bool) -> Any:
    """Fast path of `_merge_by_id` when both lists hold the same ids in the same order.

    Returns _MISSING when they do not. Equal elements have equal ids, so only the elements
    that differ (found by one C-level pass) need checking and merging.
    """
    differing = list(compress(range(len(new)), map(ne, old, new)))
    out = None
    for position in differing:
        current = old[position]
        item = new[position]
        element_id = _element_id(item)
        if element_id is None or _element_id(current) != element_id:
            return _MISSING
        merged = _merge_dict(current, item, depth + 1, full)
        if merged is not current:
            if out is None:
                out = list(old)
            out[position] = merged
    return old if out is None else out


def _merge_by_id(old: list[Any], new: list[Any], depth: int, full: bool, key: object) -> Any:
    """Merge list elements by their `id`; ids missing from a full report are removed."""
    if depth > MAX_DEPTH:
        return _adopt(new, depth, key)
    if len(old) == len(new):
        merged = _merge_same_ids(old, new, depth, full)
        if merged is not _MISSING:
            return merged
    ids = [_element_id(item) for item in new]
    if None in ids:
        return _adopt(new, depth, key)  # not an id list after all: replace it
    return _merge_listed_ids(old, new, ids, depth, full, key)


def _merge_listed_ids(  # noqa: PLR0917
    old: list[Any], new: list[Any], ids: list[str | None], depth: int, full: bool, key: object
) -> Any:
    index: dict[str | None, int] = {}
    for place, item in enumerate(old):
        index.setdefault(_element_id(item), place)
    out: list[Any] | None = None
    for element_id, item in zip(ids, new, strict=True):
        position = index.get(element_id)
        if position is None:
            added = _adopt(item, depth + 1, key)
            if added is _DROP:
                continue
            if out is None:
                out = list(old)
            if len(out) >= MAX_LIST:
                continue
            index[element_id] = len(out)
            out.append(added)
            continue
        current = old[position] if out is None else out[position]
        merged = (
            _merge_dict(current, item, depth + 1, full)
            if type(current) is dict
            else _adopt(item, depth + 1, key)
        )
        if merged is _DROP or merged is current:
            continue
        if out is None:
            out = list(old)
        out[position] = merged
    if full:
        wanted = set(ids)
        result = old if out is None else out
        kept = [item for item in result if _element_id(item) in wanted]
        if len(kept) != len(result):
            out = kept
    return old if out is None else out
