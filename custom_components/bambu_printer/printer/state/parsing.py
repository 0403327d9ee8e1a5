"""Reading report values defensively: strings or numbers accepted, anything malformed is None.

Reports come from the network, so none of these raise; they run for every changed field, so
they check exact types first (cheap) and parse strings only when they must.
"""

import math
from datetime import UTC, datetime
from typing import Any, Final


def int_or_none(value: Any) -> int | None:
    """Read an integer from a number or numeric string; floats are truncated."""
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return int(value) if math.isfinite(value) else None
    if kind is str and len(value) <= 32:
        try:
            return int(value)
        except ValueError:
            number = float_or_none(value)
            return None if number is None else int(number)
    return None


def float_or_none(value: Any) -> float | None:
    """Read a finite float from a number or numeric string."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return None
    if kind is str and len(value) <= 32:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def int_in_range(value: Any, low: int, high: int) -> int | None:
    """Read an integer, None unless low <= it <= high."""
    number = value if type(value) is int else int_or_none(value)
    return number if number is not None and low <= number <= high else None


def nonempty_str(value: Any) -> str | None:
    """Return a non-empty string as it is; anything else is None."""
    return value if type(value) is str and value else None


def dict_or_none(value: Any) -> dict[str, Any] | None:
    """Return a JSON object as it is; anything else is None."""
    return value if type(value) is dict else None


def nested(value: Any, *keys: str) -> Any:
    """Follow keys through nested objects; None where one is missing or not an object."""
    for key in keys:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


def list_or_empty(value: Any) -> list[Any]:
    """Return a JSON list as it is; anything else is an empty list."""
    return value if type(value) is list else []


def parse_flag(value: Any) -> bool | None:
    """Read "enable"/"disable", "on"/"off", true/false."""
    if type(value) is bool:
        return value
    if type(value) is str:
        return _FLAGS.get(value.strip().lower())
    if type(value) is int:
        return value != 0
    return None


_FLAGS: Final = {
    "enable": True,
    "enabled": True,
    "on": True,
    "true": True,
    "1": True,
    "disable": False,
    "disabled": False,
    "off": False,
    "false": False,
    "0": False,
}


def format_code(value: int) -> str:
    """Return a 32-bit code as Bambu writes it: two 16-bit halves in hex ("0300_400C")."""
    return f"{value >> 16:04X}_{value & 0xFFFF:04X}"


def utc_from_epoch(seconds: float | int) -> datetime | None:
    """Convert epoch seconds to an aware UTC datetime; None when out of range."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def unpack_temp(value: Any) -> tuple[float | None, float | None]:
    """Split a packed `(target << 16) | current` temperature (H2D device.* fields)."""
    packed = int_or_none(value)
    if packed is None or packed < 0:
        return None, None
    return float(packed & 0xFFFF), float((packed >> 16) & 0xFFFF)


def fan_percent(value: Any) -> int | None:
    """Convert a 0-15 fan gear to percent in steps of 10, rounded up."""
    percent = _FAN_PERCENT.get(value) if type(value) is str or type(value) is int else None
    if percent is not None:
        return percent
    gear = int_or_none(value)
    if gear is None or not 0 <= gear <= 15:
        return None
    return -(-gear * 2 // 3) * 10  # ceil(gear / 15 * 100 / 10) * 10, in integers


# The usual gears "0".."15" / 0..15, looked up rather than parsed.
_FAN_PERCENT: Final[dict[Any, int]] = {
    **{gear: -(-gear * 2 // 3) * 10 for gear in range(16)},
    **{str(gear): -(-gear * 2 // 3) * 10 for gear in range(16)},
}


def parse_color(value: Any) -> tuple[str | None, int | None]:
    """Split "RRGGBBAA" into ("#RRGGBB", alpha)."""
    if type(value) is not str:
        return None, None
    cached = _COLORS.get(value)
    if cached is not None:
        return cached
    parsed: tuple[str | None, int | None] = (None, None)
    if len(value) in (6, 8) and value.isascii() and value.isalnum():
        try:
            int(value, 16)
        except ValueError:
            pass
        else:
            parsed = "#" + value[:6].upper(), int(value[6:], 16) if len(value) == 8 else 255
    if len(_COLORS) >= _MAX_COLORS:
        _COLORS.clear()  # a bounded cache: filament colours repeat, junk must not pile up
    _COLORS[value] = parsed
    return parsed


_COLORS: dict[str, tuple[str | None, int | None]] = {}
_MAX_COLORS: Final = 512


def parse_wifi_dbm(value: Any) -> int | None:
    """Read `wifi_signal` ("-53dBm" or a number) in dBm."""
    if type(value) is str:
        text = value.strip()
        if text[-3:].lower() == "dbm":
            text = text[:-3]
        value = text
    return int_in_range(value, -200, 50)


# Nozzle materials by the last two digits of a nozzle code ("HS01" -> hardened steel).
_NOZZLE_MATERIALS: Final = {
    "00": "stainless_steel",
    "01": "hardened_steel",
    "05": "tungsten_carbide",
}
_HIGH_FLOW_LETTERS: Final = frozenset("HE")  # the code's second letter; "U" is TPU high flow
_TPU_HIGH_FLOW: Final = "tpu_high_flow"
NOZZLE_TYPE_UNKNOWN: Final = "unknown"
# Every value `nozzle_type_name` can give, for an enum sensor's options.
NOZZLE_TYPES: Final = (
    *_NOZZLE_MATERIALS.values(),
    *(f"high_flow_{material}" for material in _NOZZLE_MATERIALS.values()),
    _TPU_HIGH_FLOW,
    NOZZLE_TYPE_UNKNOWN,
)
_NOZZLE_NAMES: Final = frozenset(NOZZLE_TYPES)
_NOZZLE_CODE_LENGTH: Final = 4


def nozzle_type_name(value: Any) -> str | None:
    """Name a nozzle from `nozzle_type` ("hardened_steel") or a device code ("HS01", "HH01")."""
    if type(value) is not str or not value:
        return None
    if value in _NOZZLE_NAMES:
        return value
    if len(value) < _NOZZLE_CODE_LENGTH or len(value) > _NOZZLE_CODE_LENGTH * 4:
        return NOZZLE_TYPE_UNKNOWN
    if value[1] == "U":
        return _TPU_HIGH_FLOW
    material = _NOZZLE_MATERIALS.get(value[2:4])
    if material is None:
        return NOZZLE_TYPE_UNKNOWN
    return f"high_flow_{material}" if value[1] in _HIGH_FLOW_LETTERS else material


def parse_id_list(value: Any) -> frozenset[int]:
    """Read a list of object ids (``s_obj``); anything else, or ids that are not ints, is none."""
    if type(value) is not list:
        return frozenset()
    return frozenset(item for item in value[:MAX_IDS] if type(item) is int and item >= 0)


MAX_IDS: Final = 1000
