"""What a simulated printer's storage card holds: sliced 3mf projects and timelapses.

The 3mf archives carry what Bambu Studio writes into a sliced project: ``[Content_Types].xml``,
``3D/3dmodel.model``, ``Metadata/slice_info.config`` (one plate with its index, prediction,
weight, objects and filaments), ``Metadata/plate_<n>.png`` (the plate's picture),
``Metadata/plate_<n>.json`` and ``Metadata/plate_<n>.gcode``. Timelapses are Motion-JPEG AVI
files named ``video_<date>_<time>.avi`` with a JPEG thumbnail of the same name in
``/timelapse/thumbnail/``, as P1 and A1 printers store them.
"""

import hashlib
import io
import json
import struct
import time
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from PIL import Image, ImageDraw

from .ftps_server import Storage
from .jpeg import JpegRenderer, Overlay

__all__ = [
    "Project",
    "build_3mf",
    "plate_png",
    "record_timelapse",
    "seed_card",
    "timelapse_avi",
    "timelapse_name",
]

_PALETTE = ("#F2754E", "#00AE42", "#2850E0", "#FFC72C", "#8D8C8F", "#FFFFFF")


@dataclass(frozen=True, slots=True)
class Project:
    """A sliced plate: what slice_info.config says about it."""

    name: str
    plate: int = 1
    model_id: str = "C12"
    prediction_s: int = 1800
    objects: tuple[tuple[int, str], ...] = ((101, "Part 1"),)
    filaments: tuple[tuple[str, str, float, float], ...] = (("PLA", "#F2754E", 4.2, 12.6),)

    @property
    def weight_g(self) -> float:
        """Return the plate's total filament weight."""
        return round(sum(grams for *_, grams in self.filaments), 2)


def _colour(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def plate_png(name: str, size: int = 256) -> bytes:
    """Draw the plate's picture: the part, in a colour that follows from the job name."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = size // 5
    draw.ellipse((margin, margin * 2, size - margin, size - margin // 2), fill=_colour(name))
    draw.rectangle((size // 3, margin, size * 2 // 3, size * 3 // 5), fill=_colour(name[::-1]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _slice_info(project: Project) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<config>",
        "  <header>",
        '    <header_item key="X-BBL-Client-Type" value="slicer"/>',
        '    <header_item key="X-BBL-Client-Version" value="02.02.00.85"/>',
        "  </header>",
        "  <plate>",
        f'    <metadata key="index" value="{project.plate}"/>',
        f'    <metadata key="printer_model_id" value="{project.model_id}"/>',
        '    <metadata key="nozzle_diameters" value="0.4"/>',
        '    <metadata key="timelapse_type" value="0"/>',
        f'    <metadata key="prediction" value="{project.prediction_s}"/>',
        f'    <metadata key="weight" value="{project.weight_g:.2f}"/>',
        '    <metadata key="outside" value="false"/>',
        '    <metadata key="support_used" value="false"/>',
        '    <metadata key="label_object_enabled" value="true"/>',
    ]
    lines += [
        f'    <object identify_id="{ident}" name={quoteattr(name)} skipped="false" />'
        for ident, name in project.objects
    ]
    lines += [
        f'    <filament id="{index}" tray_info_idx="GFA00" type={quoteattr(kind)} '
        f'color={quoteattr(color)} used_m="{metres:.2f}" used_g="{grams:.2f}" />'
        for index, (kind, color, metres, grams) in enumerate(project.filaments, start=1)
    ]
    lines += ["  </plate>", "</config>", ""]
    return "\n".join(lines)


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\n'
    ' <Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\n'
    ' <Default Extension="model" '
    'ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>\n'
    ' <Default Extension="png" ContentType="image/png"/>\n'
    ' <Default Extension="gcode" ContentType="text/x.gcode"/>\n'
    "</Types>\n"
)
_MODEL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<model unit="millimeter" xml:lang="en-US" '
    'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">\n'
    " <resources/>\n <build/>\n</model>\n"
)


def build_3mf(project: Project) -> bytes:
    """Return a sliced 3mf archive of one plate."""
    out = io.BytesIO()
    plate = project.plate
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("3D/3dmodel.model", _MODEL)
        archive.writestr("Metadata/slice_info.config", _slice_info(project))
        archive.writestr(f"Metadata/plate_{plate}.png", plate_png(project.name))
        archive.writestr(
            f"Metadata/plate_{plate}.json",
            json.dumps({"bed_type": "textured_plate", "version": 2}),
        )
        archive.writestr(
            f"Metadata/plate_{plate}.gcode",
            f"; HEADER_BLOCK_START\n; total estimated time: {project.prediction_s}s\n"
            "; HEADER_BLOCK_END\nG28\nM400\n",
        )
    return out.getvalue()


def timelapse_name(when: float) -> str:
    """Return the name printers give a timelapse: ``video_YYYY-MM-DD_HH-MM-SS``."""
    return time.strftime("video_%Y-%m-%d_%H-%M-%S", time.gmtime(when))


def _chunk(kind: bytes, data: bytes) -> bytes:
    pad = b"\0" if len(data) % 2 else b""
    return kind + struct.pack("<I", len(data)) + data + pad


def _list(kind: bytes, data: bytes) -> bytes:
    return _chunk(b"LIST", kind + data)


def timelapse_avi(frames: list[bytes], width: int, height: int, fps: int = 10) -> bytes:
    """Return a Motion-JPEG AVI of the given JPEG frames (a format P1/A1 timelapses use)."""
    main_header = struct.pack(
        "<IIIIIIIIII16x",
        1_000_000 // fps,  # microseconds per frame
        0,
        0,
        0x10,  # AVIF_HASINDEX
        len(frames),
        0,
        1,
        max((len(frame) for frame in frames), default=0),
        width,
        height,
    )
    stream_header = (
        b"vidsMJPG"
        + struct.pack("<IHHIIIIIIII", 0, 0, 0, 0, 1, fps, 0, len(frames), 0, 0xFFFFFFFF, 0)
        + struct.pack("<hhhh", 0, 0, width, height)
    )
    stream_format = struct.pack(
        "<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0
    )
    header_list = _list(
        b"hdrl",
        _chunk(b"avih", main_header)
        + _list(b"strl", _chunk(b"strh", stream_header) + _chunk(b"strf", stream_format)),
    )
    movi = b"".join(_chunk(b"00dc", frame) for frame in frames)
    index = b""
    offset = 4
    for frame in frames:
        index += b"00dc" + struct.pack("<III", 0x10, offset, len(frame))
        offset += 8 + len(frame) + len(frame) % 2
    body = b"AVI " + header_list + _list(b"movi", movi) + _chunk(b"idx1", index)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def record_timelapse(storage: Storage, job_name: str, when: float) -> str:
    """Store a finished job's timelapse and its thumbnail; return the video's path."""
    renderer = JpegRenderer()
    frames = [
        renderer.render(Overlay(job_name=job_name, state="RUNNING", percent=percent))
        for percent in (0, 25, 50, 75, 100)
    ]
    name = timelapse_name(when)
    path = f"/timelapse/{name}.avi"
    storage.put(path, timelapse_avi(frames, 1280, 720, fps=2), when)
    storage.put(f"/timelapse/thumbnail/{name}.jpg", frames[-1], when)
    return path


def seed_card(storage: Storage, model_id: str, *, with_timelapse: bool, now: float) -> None:
    """Fill a fresh card: two projects at the root and, where the model records them, a video."""
    storage.put(
        "/Calibration cube.gcode.3mf",
        build_3mf(Project("Calibration cube", model_id=model_id, prediction_s=900)),
        now - 7 * 86400,
    )
    storage.put(
        "/Cable clips.gcode.3mf",
        build_3mf(
            Project(
                "Cable clips",
                model_id=model_id,
                objects=((151, "Clip A"), (251, "Clip B"), (351, "Clip C")),
                filaments=(("PLA", "#00AE42", 3.1, 9.3), ("PETG", "#FFFFFF", 1.0, 3.2)),
            )
        ),
        now - 3 * 86400,
    )
    if with_timelapse:
        record_timelapse(storage, "Calibration cube", now - 7 * 86400 + 900)
