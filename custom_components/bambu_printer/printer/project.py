"""Print details from a job's 3mf archive: plate, weight, time, filaments, objects, cover.

A sliced 3mf (Bambu Studio, Orca) is a zip archive. ``Metadata/slice_info.config`` is XML with
one ``<plate>`` per sliced plate: ``<metadata key=... value=...>`` items (``index``,
``prediction`` in seconds, ``weight`` in grams), ``<object identify_id name skipped>`` items and
``<filament id type color used_m used_g>`` items. ``Metadata/plate_<n>.png`` is the plate's
picture. Archives come from the network, so everything is bounded: the number of members,
their declared and real sizes, the XML's size, and document type declarations (the only way
to declare entities) are refused outright, so no entity is ever expanded.
"""

import re
import zipfile
from dataclasses import dataclass
from typing import IO, Final
from xml.etree import ElementTree as ET

from .errors import BambuError

__all__ = [
    "FilamentUse",
    "PrintDetails",
    "PrintObject",
    "ProjectFileError",
    "candidate_paths",
    "parse_project",
    "plate_from_gcode_file",
]

MAX_MEMBERS: Final = 10_000
MAX_SLICE_INFO: Final = 1 << 20  # 1 MiB of XML is thousands of objects
MAX_IMAGE: Final = 8 << 20
SLICE_INFO: Final = "Metadata/slice_info.config"
PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
SEARCH_FOLDERS: Final = ("/cache", "")
_PLATE_GCODE: Final = re.compile(r"plate_(\d{1,3})\.gcode$", re.IGNORECASE)
_DTD: Final = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class ProjectFileError(BambuError):
    """The archive is not a sliced 3mf, or breaks a limit (too large, unsafe names, DTD)."""


@dataclass(frozen=True, slots=True)
class PrintObject:
    """An object on the plate; its id is what ``skip_objects`` takes."""

    identify_id: int
    name: str


@dataclass(frozen=True, slots=True)
class FilamentUse:
    """One filament the plate uses (``id`` is the slicer's 1-based filament number)."""

    id: int
    type: str | None
    color: str | None
    used_m: float | None
    used_g: float | None


@dataclass(frozen=True, slots=True)
class PrintDetails:
    """What the job's 3mf says about the plate being printed."""

    path: str
    plate: int
    weight_g: float | None
    length_m: float | None
    prediction_s: int | None
    filaments: tuple[FilamentUse, ...]
    objects: tuple[PrintObject, ...]
    cover: bytes | None  # the plate's PNG picture


def plate_from_gcode_file(gcode_file: str | None) -> int | None:
    """Return the plate number of a ``.../plate_<n>.gcode`` path (X1 reports one)."""
    if not gcode_file:
        return None
    match = _PLATE_GCODE.search(gcode_file)
    return int(match[1]) if match else None


def candidate_paths(name: str | None, gcode_file: str | None) -> list[str]:
    """Return where the job's 3mf may be, in the order to try.

    The job name (``subtask_name``), then the reported file, each as given when it ends in
    ``.3mf`` else with ``.3mf`` and ``.gcode.3mf`` added, in ``/cache/`` then the root.
    """
    names: list[str] = []
    for given in (name, gcode_file):
        if not given or not given.isprintable():
            continue  # line breaks could smuggle FTP commands; P1 firmware sends stray bytes
        if given.startswith("/data/") or _PLATE_GCODE.search(given):
            continue  # X1's plate_<n>.gcode lives on a RAM disk FTP does not serve
        base = given.rsplit("/", 1)[-1]
        if not base:
            continue
        forms = [base] if base.endswith(".3mf") else [f"{base}.3mf", f"{base}.gcode.3mf"]
        names.extend(form for form in forms if form not in names)
    return [f"{folder}/{form}" for form in names for folder in SEARCH_FOLDERS]


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number < 1e9 else None


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """Read one member, refusing it when it is (or claims to be) larger than ``limit``."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise ProjectFileError(f"{name} is larger than {limit} bytes")
    with archive.open(info) as member:
        data = member.read(limit + 1)  # a lying header cannot inflate past the limit
    if len(data) > limit:
        raise ProjectFileError(f"{name} is larger than {limit} bytes")
    return data


def _parse_xml(data: bytes) -> ET.Element:
    """Parse bounded XML that declares no document type (so it cannot define entities)."""
    if _DTD.search(data):
        raise ProjectFileError("slice_info.config declares a document type")
    try:
        return ET.fromstring(data)  # noqa: S314  (bounded and without DTD, checked above)
    except ET.ParseError as err:
        raise ProjectFileError(f"slice_info.config is not XML: {err}") from None


def _choose_plate(root: ET.Element, plate_hint: int | None) -> tuple[int, ET.Element]:
    """Return the plate the job prints: the hinted one, else the first listed."""
    plates: list[tuple[int, ET.Element]] = []
    for plate in root.iter("plate"):
        for item in plate.iter("metadata"):
            if item.get("key") == "index" and (item.get("value") or "").isdigit():
                plates.append((int(item.get("value") or 0), plate))
                break
    if not plates:
        raise ProjectFileError("slice_info.config lists no sliced plate")
    for index, plate in plates:
        if index == plate_hint:
            return index, plate
    return plates[0]


def _check_names(archive: zipfile.ZipFile) -> None:
    """Refuse archives that are too large to list or whose names climb out of a folder."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ProjectFileError(f"the archive has more than {MAX_MEMBERS} members")
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise ProjectFileError(f"the archive has an unsafe member name: {name[:80]!r}")


def parse_project(source: IO[bytes], path: str, plate_hint: int | None = None) -> PrintDetails:
    """Read the print details of a 3mf (blocking: decompresses; run it in an executor)."""
    try:
        with zipfile.ZipFile(source) as archive:
            _check_names(archive)
            raw = _read_member(archive, SLICE_INFO, MAX_SLICE_INFO)
            if raw is None:
                raise ProjectFileError("the archive has no slice_info.config (not sliced)")
            plate_index, plate = _choose_plate(_parse_xml(raw), plate_hint)
            cover = _read_member(archive, f"Metadata/plate_{plate_index}.png", MAX_IMAGE)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as err:
        raise ProjectFileError(f"not a readable 3mf archive: {err}") from None
    except (OSError, RuntimeError, ValueError) as err:  # corrupt data, encrypted members
        raise ProjectFileError(f"the archive is damaged: {type(err).__name__}") from None
    metadata = {
        item.get("key"): item.get("value") for item in plate.iter("metadata") if item.get("key")
    }
    filaments = tuple(
        FilamentUse(
            id=int(item.get("id") or 0) if (item.get("id") or "").isdigit() else 0,
            type=item.get("type") or None,
            color=item.get("color") or None,
            used_m=_float(item.get("used_m")),
            used_g=_float(item.get("used_g")),
        )
        for item in plate.iter("filament")
    )
    objects = tuple(
        PrintObject(int(item.get("identify_id") or 0), item.get("name") or "")
        for item in plate.iter("object")
        if (item.get("identify_id") or "").isdigit() and item.get("skipped") != "true"
    )
    lengths = [use.used_m for use in filaments if use.used_m is not None]
    weights = [use.used_g for use in filaments if use.used_g is not None]
    weight = _float(metadata.get("weight"))
    prediction = _float(metadata.get("prediction"))
    return PrintDetails(
        path=path,
        plate=plate_index,
        weight_g=weight if weight is not None else (round(sum(weights), 2) if weights else None),
        length_m=round(sum(lengths), 2) if lengths else None,
        prediction_s=int(prediction) if prediction is not None else None,
        filaments=filaments,
        objects=objects,
        cover=cover if cover is not None and cover.startswith(PNG_MAGIC) else None,
    )
