"""Print details from 3mf archives: the simulator's realistic ones, and hostile ones.

Hostile archives (zip bombs, climbing member names, huge or entity-laden XML, lying headers)
are refused with ProjectFileError before they cost more than their limits.
"""

import io
import tracemalloc
import zipfile

import pytest

from custom_components.bambu_printer.printer import project
from custom_components.bambu_printer.printer.project import (
    PNG_MAGIC,
    ProjectFileError,
    candidate_paths,
    parse_project,
    plate_from_gcode_file,
)
from simulator.card import Project, build_3mf

SLICE_INFO = """<?xml version="1.0" encoding="UTF-8"?>
<config>
  <plate>
    <metadata key="index" value="{index}"/>
    <metadata key="prediction" value="5935"/>
    <metadata key="weight" value="20.91"/>
    <object identify_id="123" name="One.stl" skipped="false"/>
    <object identify_id="394" name="Two.stl" skipped="true"/>
    <filament id="1" type="PLA" color="#000000" used_m="5.45" used_g="17.32"/>
    <filament id="2" type="PLA" color="#8D8C8F" used_m="0.84" used_g="2.66"/>
  </plate>
</config>
"""


def _archive(members: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    out.seek(0)
    return out


def test_reads_the_plate_being_printed() -> None:
    """Weight and prediction from metadata, length summed, skipped objects left out."""
    source = _archive(
        {
            "Metadata/slice_info.config": SLICE_INFO.format(index=3).encode(),
            "Metadata/plate_3.png": PNG_MAGIC + b"rest",
        }
    )
    details = parse_project(source, "/cache/Box.3mf", plate_hint=3)
    assert (details.plate, details.weight_g, details.prediction_s) == (3, 20.91, 5935)
    assert details.length_m == pytest.approx(6.29)
    assert [(o.identify_id, o.name) for o in details.objects] == [(123, "One.stl")]
    assert [f.color for f in details.filaments] == ["#000000", "#8D8C8F"]
    assert details.cover == PNG_MAGIC + b"rest"


def test_simulator_projects_parse() -> None:
    """The simulator's 3mf is what the parser reads (one plate, a PNG cover)."""
    data = build_3mf(Project("Benchy", objects=((7, "Hull"),)))
    details = parse_project(io.BytesIO(data), "/cache/Benchy.3mf")
    assert details.objects[0].name == "Hull"
    assert details.cover is not None
    assert details.cover.startswith(PNG_MAGIC)


def test_a_cover_that_is_not_png_is_dropped() -> None:
    """Only a PNG is handed on as the plate's picture."""
    source = _archive(
        {
            "Metadata/slice_info.config": SLICE_INFO.format(index=1).encode(),
            "Metadata/plate_1.png": b"<script>",
        }
    )
    assert parse_project(source, "/x.3mf").cover is None


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/abs/path", "Metadata/../../x", "C:/windows/x", "..\\x"]
)
def test_climbing_member_names_are_refused(name: str) -> None:
    """A member named to escape a folder makes the whole archive suspect."""
    source = _archive(
        {"Metadata/slice_info.config": SLICE_INFO.format(index=1).encode(), name: b"x"}
    )
    with pytest.raises(ProjectFileError, match="unsafe member name"):
        parse_project(source, "/x.3mf")


def test_zip_bomb_is_refused_without_inflating_it() -> None:
    """A 200 MB slice_info compressed to a few hundred kB is refused by its size."""
    tracemalloc.start()
    try:
        source = _archive({"Metadata/slice_info.config": b" " * (200 << 20)})
        tracemalloc.reset_peak()
        with pytest.raises(ProjectFileError, match="larger than"):
            parse_project(source, "/bomb.3mf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_lying_size_header_is_caught_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member whose header understates its size is still cut at the limit."""
    monkeypatch.setattr(project, "MAX_SLICE_INFO", 1000)
    source = _archive({"Metadata/slice_info.config": b" " * 5000})
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo("Metadata/slice_info.config")
    info.file_size = 10
    original = zipfile.ZipFile.getinfo

    def lying(self: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
        found = original(self, name)
        found.file_size = 10
        return found

    monkeypatch.setattr(zipfile.ZipFile, "getinfo", lying)
    source.seek(0)
    with pytest.raises(ProjectFileError):
        parse_project(source, "/liar.3mf")


def test_entity_expansion_is_impossible() -> None:
    """A billion-laughs document (or any DTD) is refused before parsing."""
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<config><plate><metadata key='index' value='1'/>&lol2;</plate></config>"
    )
    with pytest.raises(ProjectFileError, match="document type"):
        parse_project(_archive({"Metadata/slice_info.config": laughs}), "/lol.3mf")


def test_too_many_members_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """An archive listing more members than any project has is refused."""
    monkeypatch.setattr(project, "MAX_MEMBERS", 5)
    source = _archive({f"f{i}": b"" for i in range(6)})
    with pytest.raises(ProjectFileError, match="more than 5 members"):
        parse_project(source, "/many.3mf")


@pytest.mark.parametrize(
    "data",
    [b"not a zip", b"PK\x03\x04broken"],
)
def test_garbage_is_a_project_error(data: bytes) -> None:
    """Anything that is not a readable zip is ProjectFileError, never another exception."""
    with pytest.raises(ProjectFileError):
        parse_project(io.BytesIO(data), "/junk.3mf")


def test_unsliced_or_malformed_projects() -> None:
    """No slice_info, broken XML, or no plate index: not a sliced project."""
    with pytest.raises(ProjectFileError, match="not sliced"):
        parse_project(_archive({"3D/3dmodel.model": b"<model/>"}), "/a.3mf")
    with pytest.raises(ProjectFileError, match="not XML"):
        parse_project(_archive({"Metadata/slice_info.config": b"<config"}), "/b.3mf")
    with pytest.raises(ProjectFileError, match="no sliced plate"):
        parse_project(_archive({"Metadata/slice_info.config": b"<config/>"}), "/c.3mf")


def test_where_the_job_file_is_looked_for() -> None:
    """subtask_name then gcode_file, .3mf and .gcode.3mf, /cache before the root."""
    assert candidate_paths("Box", "Box.gcode.3mf") == [
        "/cache/Box.3mf",
        "/Box.3mf",
        "/cache/Box.gcode.3mf",
        "/Box.gcode.3mf",
    ]
    # X1's /data/Metadata/plate_<n>.gcode is on a RAM disk; stray bytes are skipped.
    assert candidate_paths("Shadowbox", "/data/Metadata/plate_3.gcode") == [
        "/cache/Shadowbox.3mf",
        "/Shadowbox.3mf",
        "/cache/Shadowbox.gcode.3mf",
        "/Shadowbox.gcode.3mf",
    ]
    assert candidate_paths("a\r\nDELE /x", "\udcf0name.gcode") == []
    assert plate_from_gcode_file("/data/Metadata/plate_3.gcode") == 3
    assert plate_from_gcode_file("Box.gcode.3mf") is None
