"""Filament views: AMS units and their trays, external spools, and the slot in use.

AMS units and trays are the largest part of a report, so their views are cached one by one
(`AmsViews`): a unit or tray is rebuilt only when its source object changed, and merging never
modifies source objects in place, so identity tells.
"""

from collections.abc import Mapping
from typing import Any, Final

from ..models import AmsKind, ams_kind_from_module
from .parsing import (
    float_or_none,
    int_in_range,
    int_or_none,
    list_or_empty,
    nonempty_str,
    parse_color,
)
from .tables import AMS_HT_FIRST_ID, AMS_LITE_FIRST_ID, EXTERNAL_TRAY_IDS
from .views import AmsUnit, Tray

_TRAY_NONE: Final = 255
_TRAY_EXTERNAL: Final = 254
_SNOW_NONE: Final = 0xFFFF

# An AMS unit's get_version module: its kind and firmware version.
type AmsModule = tuple[AmsKind | None, str | None]


def _build_tray(item: dict[str, Any], ams_id: int | None, position: int, active: bool) -> Tray:
    tray_id = int_in_range(item.get("id"), 0, 255)
    if tray_id is None:
        tray_id = position
    tray_type = nonempty_str(item.get("tray_type"))
    if tray_type is None:
        # An empty slot reports placeholders (colour 00000000, temperatures 0): show nothing.
        return Tray(ams_id, tray_id, *_EMPTY_TRAY, active, True)
    raw_color = item.get("tray_color")
    color, alpha = parse_color(raw_color)
    cols = list_or_empty(item.get("cols"))
    if len(cols) == 1 and cols[0] == raw_color:
        colors: tuple[str, ...] = () if color is None else (color,)
    else:
        parsed = (parse_color(value)[0] for value in cols[:16])
        colors = tuple(value for value in parsed if value is not None)
    return Tray(  # positional: keyword calls cost more here
        ams_id,  # ams_id
        tray_id,  # tray_id
        tray_type,  # type
        nonempty_str(item.get("tray_sub_brands")),  # sub_brand
        nonempty_str(item.get("tray_info_idx")),  # filament_id
        color,  # color
        alpha,  # alpha
        colors,  # colors
        # External spools have no RFID reading: their `remain` (0 or -1) means unknown.
        None if ams_id is None else int_in_range(item.get("remain"), 0, 100),  # remain
        int_in_range(item.get("nozzle_temp_min"), 0, 1000),  # nozzle_temp_min
        int_in_range(item.get("nozzle_temp_max"), 0, 1000),  # nozzle_temp_max
        float_or_none(item.get("k")),  # k
        active,  # active
        False,  # empty
    )


# Tray fields from `type` to `k` for an empty slot.
_EMPTY_TRAY: Final = (None, None, None, None, None, (), None, None, None, None)


# An active slot: (ams_id, tray_id), or (None, spool id) for an external spool.
type Slot = tuple[int | None, int]


def _external_items(vt_tray: Any, vir_slot: Any) -> list[tuple[int, dict[str, Any]]]:
    slots = [item for item in list_or_empty(vir_slot) if type(item) is dict]
    if not slots and type(vt_tray) is dict:
        slots = [vt_tray]
    items = []
    for item in slots[:8]:
        spool_id = int_in_range(item.get("id"), 0, 255)
        items.append((_TRAY_EXTERNAL if spool_id is None else spool_id, item))
    return items


def _external_slot(spool_id: int, spool_ids: tuple[int, ...]) -> Slot:
    if len(spool_ids) == 1:
        return None, spool_ids[0]  # the only holder (X1 firmware numbers it 255)
    return None, spool_id


def _snow_slot(
    extruder: dict[str, Any], info: list[Any], spool_ids: tuple[int, ...]
) -> Slot | None:
    """Multi-extruder printers: the active extruder's `snow` is (ams id << 8) | slot."""
    state = int_or_none(extruder.get("state"))
    wanted = (state >> 4) & 0xF if state is not None and state >= 0 else 0
    for position, item in enumerate(info):
        if type(item) is not dict:
            continue
        index = int_in_range(item.get("id"), 0, 255)
        if (position if index is None else index) != wanted:
            continue
        snow = int_in_range(item.get("snow"), 0, _SNOW_NONE - 1)
        if snow is None:
            return None  # 0xFFFF: nothing loaded
        unit, slot = snow >> 8, snow & 0xFF
        if unit in EXTERNAL_TRAY_IDS:
            # An external spool loads as slot 0; 0xFEFF is an idle extruder's "nothing".
            return _external_slot(unit, spool_ids) if slot == 0 else None
        return unit, slot
    return None


def build_active_slot(vt_tray: Any, vir_slot: Any, tray_now: Any, extruder: Any) -> Slot | None:
    """Which slot feeds the extruder in use."""
    spool_ids = tuple(spool_id for spool_id, _ in _external_items(vt_tray, vir_slot))
    info = list_or_empty(extruder.get("info")) if type(extruder) is dict else []
    if len(info) > 1:
        return _snow_slot(extruder, info, spool_ids)
    slot = int_in_range(tray_now, 0, _TRAY_NONE - 1)
    if slot is None:
        return None  # 255: nothing loaded
    if slot == _TRAY_EXTERNAL:
        return _external_slot(_TRAY_EXTERNAL, spool_ids)
    if slot >= AMS_HT_FIRST_ID:
        return slot, 0  # AMS HT units have one slot and ids from 128
    return slot >> 2, slot & 3


def build_external_spools(vt_tray: Any, vir_slot: Any, active: Slot | None) -> tuple[Tray, ...]:
    """Read the external spool holders: `vir_slot[]` (H2D), else `vt_tray`."""
    items = _external_items(vt_tray, vir_slot)
    spool_ids = tuple(spool_id for spool_id, _ in items)
    return tuple(
        _build_tray(
            item,
            None,
            spool_id,
            active is not None and active == _external_slot(spool_id, spool_ids),
        )
        for spool_id, item in items
    )


def find_active_tray(
    slot: Slot | None, units: tuple[AmsUnit, ...], spools: tuple[Tray, ...]
) -> Tray | None:
    """Return the AMS tray or external spool marked active, if any."""
    if slot is None:
        return None  # nothing loaded: no need to look
    for unit in units:
        for tray in unit.trays:
            if tray.active:
                return tray
    for tray in spools:
        if tray.active:
            return tray
    return None


# A cached AMS unit: (source, active tray, module, view, source tray list, tray entries)
# where each tray entry is (source, active, view).
type _UnitEntry = tuple[
    dict[str, Any],
    int | None,
    AmsModule | None,
    AmsUnit,
    Any,
    tuple[tuple[dict[str, Any], bool, Tray], ...],
]


def _build_unit(
    item: dict[str, Any],
    unit_id: int,
    active_tray: int | None,
    module: AmsModule | None,
    previous: _UnitEntry | None,
) -> _UnitEntry:
    """Build one AMS unit, reusing tray views whose source objects did not change."""
    tray_list = item.get("tray")
    if previous is not None and previous[4] is tray_list and previous[1] == active_tray:
        trays = previous[3].trays
        entries = previous[5]
    else:
        old_entries = previous[5] if previous is not None else ()
        built: list[tuple[dict[str, Any], bool, Tray]] = []
        for position, source in enumerate(list_or_empty(tray_list)):
            if type(source) is not dict:
                continue
            tray_id = int_in_range(source.get("id"), 0, 255)
            is_active = active_tray is not None and active_tray == (
                position if tray_id is None else tray_id
            )
            slot = len(built)
            if (
                slot < len(old_entries)
                and old_entries[slot][0] is source
                and old_entries[slot][1] == is_active
            ):
                built.append(old_entries[slot])
            else:
                built.append((source, is_active, _build_tray(source, unit_id, position, is_active)))
        entries = tuple(built)
        trays = tuple(entry[2] for entry in entries)
    kind = module[0] if module is not None else None
    if kind is None and unit_id >= AMS_LITE_FIRST_ID:
        kind = AmsKind.AMS_HT if unit_id >= AMS_HT_FIRST_ID else AmsKind.AMS_LITE
    if kind is AmsKind.AMS_LITE:
        level = percent = None  # no humidity sensor, whatever it reports
    else:
        # The printer counts 5 = dry .. 1 = wet (0 = unknown); the apps show 1 = dry.
        raw_level = int_in_range(item.get("humidity"), 1, 5)
        level = None if raw_level is None else 6 - raw_level
        percent = int_in_range(item.get("humidity_raw"), 1, 100)
    unit = AmsUnit(  # positional: keyword calls cost more here
        unit_id,  # id
        kind,  # kind
        level,  # humidity_level
        percent,  # humidity_percent
        float_or_none(item.get("temp")),  # temperature
        int_in_range(item.get("dry_time"), 0, 10**6),  # dry_time_minutes
        module[1] if module is not None else None,  # firmware
        trays,  # trays
    )
    return item, active_tray, module, unit, tray_list, entries


def build_ams_modules(versions: Mapping[str, Mapping[str, Any]]) -> Mapping[int, AmsModule]:
    """Find each AMS unit's kind and firmware among the get_version modules ("ams/0", ...)."""
    modules: dict[int, AmsModule] = {}
    for name, module in versions.items():
        kind = ams_kind_from_module(name)
        unit = int_in_range(name.partition("/")[2], 0, 255) if kind is not None else None
        if unit is not None:
            modules[unit] = (kind, nonempty_str(module.get("sw_ver")))
    return modules


class AmsViews:
    """One printer's AMS unit views, each reused while its source object stays the same."""

    __slots__ = ("_units",)

    def __init__(self) -> None:
        self._units: dict[int, _UnitEntry] = {}

    def build(
        self, units: Any, active: Slot | None, modules: Mapping[int, AmsModule]
    ) -> tuple[AmsUnit, ...]:
        """Build the units of `ams.ams[]` in report order, reusing unchanged ones."""
        previous = self._units
        cache: dict[int, _UnitEntry] = {}
        result = []
        for item in list_or_empty(units):
            if type(item) is not dict:
                continue
            unit_id = int_in_range(item.get("id"), 0, 255)
            if unit_id is None:
                continue
            module = modules.get(unit_id)
            active_tray = active[1] if active is not None and active[0] == unit_id else None
            entry = previous.get(unit_id)
            if (
                entry is None
                or entry[0] is not item
                or entry[1] != active_tray
                or entry[2] != module
            ):
                entry = _build_unit(item, unit_id, active_tray, module, entry)
            cache[unit_id] = entry
            result.append(entry[3])
        self._units = cache
        return tuple(result)
