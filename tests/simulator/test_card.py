"""The simulated storage card: what jobs leave on it, and its FTPS server's rules."""

import io
import struct
import zipfile

import pytest

from custom_components.bambu_printer.printer.project import PNG_MAGIC, parse_project
from simulator.card import Project, build_3mf, timelapse_avi
from simulator.ftps_server import Storage, _list_line
from simulator.testing import start_printer, wait_until


@pytest.mark.parametrize(("model", "videos"), [("P1S", True), ("A1", True), ("X1C", False)])
async def test_jobs_leave_a_project_and_p1_a1_a_timelapse(
    leak_check: None, model: str, videos: bool
) -> None:
    """A started job's 3mf goes to /cache; a finished one leaves an AVI on P1/A1 only."""
    async with start_printer(model, files=True, speedup=200) as printer:
        card = printer.card
        assert card is not None
        before = {p for p in card.storage.files if p.startswith("/timelapse/video_")}
        printer.engine.start_job("Widget", layers=2, minutes=0.5)
        await wait_until(lambda: "/cache/Widget.3mf" in card.storage.files, within=10)
        await wait_until(lambda: printer.engine.gcode_state == "FINISH", within=20)
        await wait_until(lambda: card.last_timelapse is not None or not videos, within=5)
        after = {p for p in card.storage.files if p.startswith("/timelapse/video_")}
        assert bool(after - before) is videos
        if videos:
            assert card.last_timelapse is not None
            stem = card.last_timelapse.rsplit("/", 1)[1].removesuffix(".avi")
            assert f"/timelapse/thumbnail/{stem}.jpg" in card.storage.files


async def test_a_card_file_is_printed_from_the_card(leak_check: None) -> None:
    """A job named after a file on the card prints that file: no copy in /cache."""
    async with start_printer("P1S", files=True, speedup=2000) as printer:
        card = printer.card
        assert card is not None
        printer.engine.start_job("Cable clips")
        await wait_until(lambda: printer.engine.gcode_state in {"PREPARE", "RUNNING"})
        await wait_until(lambda: card.project_path("Cable clips") == "/Cable clips.gcode.3mf")
        assert "/cache/Cable clips.3mf" not in card.storage.files


def test_projects_carry_slice_info_and_a_plate_picture() -> None:
    """What the simulator writes is what the parser reads, plate number included."""
    data = build_3mf(Project("Box", plate=3, objects=((5, "Lid"), (6, "Base"))))
    details = parse_project(io.BytesIO(data), "/Box.3mf", plate_hint=3)
    assert details.plate == 3
    assert [o.identify_id for o in details.objects] == [5, 6]
    assert details.cover is not None
    assert details.cover.startswith(PNG_MAGIC)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "Metadata/plate_3.gcode" in archive.namelist()


def test_timelapse_is_a_riff_avi_with_an_index() -> None:
    """RIFF/AVI with one 00dc chunk per JPEG frame and an idx1 index."""
    frames = [b"\xff\xd8\xff" + bytes(10) + b"\xff\xd9", b"\xff\xd8\xff" + bytes(11) + b"\xff\xd9"]
    avi = timelapse_avi(frames, 64, 48, fps=2)
    assert avi[:4] == b"RIFF"
    assert struct.unpack("<I", avi[4:8])[0] == len(avi) - 8
    assert avi[8:12] == b"AVI "
    assert avi.count(b"00dc") == 4  # two chunks, two index entries
    assert b"idx1" in avi


def test_listing_lines_and_folders() -> None:
    """Folders exist where files are; lines read like ls -l."""
    storage = Storage()
    storage.put("/timelapse/thumbnail/a.jpg", b"x", 1_700_000_000)
    assert storage.is_dir("/timelapse")
    assert not storage.is_dir("/cache")
    assert storage.listing("/timelapse") == [("thumbnail", 0, 1_700_000_000, True)]
    line = _list_line("a.jpg", 1, 1_700_000_000, False)
    assert line.startswith("-rw-r--r--")
    assert line.endswith(" 2023 a.jpg")
