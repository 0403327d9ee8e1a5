"""Request payloads and reply matching (docs/protocol.md, "Commands and replies")."""

import json
from typing import Any

import pytest

from custom_components.bambu_printer.printer.commands import (
    Command,
    CommandFactory,
    Reply,
    match_reply,
)
from custom_components.bambu_printer.printer.models import PrinterModel
from tests.captures import version_report


@pytest.fixture
def factory() -> CommandFactory:
    return CommandFactory()


def test_pushall(factory: CommandFactory) -> None:
    command = factory.pushall()
    assert command.payload == {
        "pushing": {
            "sequence_id": command.sequence_id,
            "command": "pushall",
            "version": 1,
            "push_target": 1,
        }
    }
    assert (command.module, command.command) == ("pushing", "pushall")
    assert command.expects_reply is False  # answered by a full push_status


def test_push_start(factory: CommandFactory) -> None:
    """Restarts a push stream another client stopped, as ha-bambulab's pybambu does."""
    command = factory.push_start()
    assert command.payload == {"pushing": {"sequence_id": command.sequence_id, "command": "start"}}
    assert command.expects_reply is False  # answered by a full push_status


def test_get_version(factory: CommandFactory) -> None:
    command = factory.get_version()
    assert command.payload == {
        "info": {"sequence_id": command.sequence_id, "command": "get_version"}
    }
    assert command.expects_reply


@pytest.mark.parametrize("name", ["pause", "resume", "stop"])
def test_job_control(factory: CommandFactory, name: str) -> None:
    command: Command = getattr(factory, name)()
    assert command.payload == {
        "print": {"sequence_id": command.sequence_id, "command": name, "param": ""}
    }
    assert command.qos == 1
    assert command.expects_reply


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_print_speed(factory: CommandFactory, level: int) -> None:
    command = factory.print_speed(level)
    assert command.payload == {
        "print": {"sequence_id": command.sequence_id, "command": "print_speed", "param": str(level)}
    }


@pytest.mark.parametrize("level", [0, 5, -1, True, "2", 2.0, None])
def test_print_speed_rejects_bad_levels(factory: CommandFactory, level: Any) -> None:
    with pytest.raises(ValueError, match="speed level"):
        factory.print_speed(level)


@pytest.mark.parametrize(
    ("gcode", "param"),
    [("M104 S0", "M104 S0\n"), ("M104 S0\n", "M104 S0\n"), ("G28\nM400", "G28\nM400\n")],
)
def test_gcode_line(factory: CommandFactory, gcode: str, param: str) -> None:
    command = factory.gcode_line(gcode)
    assert command.payload == {
        "print": {"sequence_id": command.sequence_id, "command": "gcode_line", "param": param}
    }


@pytest.mark.parametrize("gcode", ["", "  \n", None, 5, "G1" * 40_000])
def test_gcode_line_rejects_junk(factory: CommandFactory, gcode: Any) -> None:
    with pytest.raises(ValueError, match="gcode"):
        factory.gcode_line(gcode)


@pytest.mark.parametrize(("on", "mode"), [(True, "on"), (False, "off")])
def test_ledctrl(factory: CommandFactory, on: bool, mode: str) -> None:
    command = factory.ledctrl("chamber_light", on)
    assert command.payload == {
        "system": {
            "sequence_id": command.sequence_id,
            "command": "ledctrl",
            "led_node": "chamber_light",
            "led_mode": mode,
            "led_on_time": 500,
            "led_off_time": 500,
            "loop_times": 0,
            "interval_time": 0,
        }
    }
    assert command.module == "system"


@pytest.mark.parametrize("node", ["", None, 3, "x" * 100])
def test_ledctrl_rejects_bad_nodes(factory: CommandFactory, node: Any) -> None:
    with pytest.raises(ValueError, match="light node"):
        factory.ledctrl(node, True)


def test_sequence_ids_increase_as_strings(factory: CommandFactory) -> None:
    commands = [
        factory.pushall(),
        factory.get_version(),
        factory.pause(),
        factory.resume(),
        factory.stop(),
        factory.print_speed(2),
        factory.gcode_line("M400"),
        factory.ledctrl("work_light", False),
    ]
    ids = [command.sequence_id for command in commands]
    assert all(isinstance(sequence_id, str) for sequence_id in ids)
    numbers = [int(sequence_id) for sequence_id in ids]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


def test_factories_are_independent_and_start_where_told() -> None:
    assert CommandFactory(start=100).pause().sequence_id == "100"
    first, second = CommandFactory(), CommandFactory()
    assert first.pause().sequence_id == second.pause().sequence_id


def test_encode_is_compact_json(factory: CommandFactory) -> None:
    command = factory.gcode_line("M104 S0")
    data = command.encode()
    assert json.loads(data) == command.payload
    assert b" " not in data.replace(b"M104 S0", b"")


def reply(command: Command, **fields: Any) -> dict[str, Any]:
    body = {"command": command.command, "sequence_id": command.sequence_id, **fields}
    return {command.module: body}


@pytest.mark.parametrize("result", ["success", "SUCCESS", "Success", " success "])
def test_success_is_case_insensitive(factory: CommandFactory, result: str) -> None:
    command = factory.pause()
    answer = match_reply(command, reply(command, result=result, reason=""))
    assert answer == Reply(
        ok=True, reason=None, data=reply(command, result=result, reason="")["print"]
    )


def test_failure_carries_the_reason(factory: CommandFactory) -> None:
    command = factory.stop()
    answer = match_reply(
        command,
        reply(command, result="failed", reason="mqtt message verify failed", err_code=84033545),
    )
    assert answer is not None
    assert not answer.ok
    assert answer.reason == "mqtt message verify failed"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"result": "fail", "reason": ""}, "fail"),
        ({"result": "FAILED"}, "FAILED"),
        ({"result": "", "reason": "", "err_code": 84033545}, "error 84033545"),
        ({"result": "", "err_code": "0700_8010"}, "error 0700_8010"),
        ({"result": 5}, "failed"),
        ({"err_code": 3}, "error 3"),
    ],
)
def test_failure_without_reason(
    factory: CommandFactory, fields: dict[str, Any], reason: str
) -> None:
    command = factory.resume()
    answer = match_reply(command, reply(command, **fields))
    assert answer is not None
    assert (answer.ok, answer.reason) == (False, reason)


def test_missing_result_is_success(factory: CommandFactory) -> None:
    """X1 and H2 get_version replies carry no `result`."""
    command = factory.get_version()
    answer = match_reply(command, reply(command, module=[]))
    assert answer is not None
    assert answer.ok


def test_capture_get_version_reply_matches() -> None:
    report = version_report("MOCK-X1CMULTIAMS")
    command = CommandFactory(start=int(report["info"]["sequence_id"])).get_version()
    answer = match_reply(command, report)
    assert answer is not None
    assert answer.ok
    assert answer.data["module"][0]["name"] == "ota"


def test_integer_sequence_id_matches(factory: CommandFactory) -> None:
    command = factory.pause()
    report = {
        "print": {"command": "pause", "sequence_id": int(command.sequence_id), "result": "success"}
    }
    assert match_reply(command, report) is not None


@pytest.mark.parametrize(
    "report",
    [
        {},
        {"print": None},
        {"print": "pause"},
        {"system": {"command": "pause", "sequence_id": "1", "result": "success"}},
        {"print": {"command": "pause", "sequence_id": "2", "result": "success"}},
        {"print": {"command": "resume", "sequence_id": "1", "result": "success"}},
        {"print": {"command": "pause", "sequence_id": True, "result": "success"}},
        {"print": {"command": "pause", "sequence_id": None}},
        {"print": {"command": "pause", "sequence_id": ["1"]}},
        {"print": {"command": "push_status", "sequence_id": "1"}},
    ],
)
def test_not_a_reply(report: dict[str, Any]) -> None:
    command = CommandFactory(start=1).pause()
    assert command.sequence_id == "1"
    assert match_reply(command, report) is None


@pytest.mark.parametrize("report", [None, 5, "x", [1, 2]])
def test_junk_reports_never_raise(report: Any) -> None:
    assert match_reply(CommandFactory().pause(), report) is None


def test_reply_without_command_name_matches_on_sequence_id() -> None:
    command = CommandFactory(start=7).ledctrl("chamber_light", True)
    answer = match_reply(command, {"system": {"sequence_id": "7", "result": "success"}})
    assert answer is not None
    assert answer.ok


@pytest.mark.parametrize(
    ("model", "url"),
    [
        (PrinterModel.P1S, "file:///sdcard/cache/Box.3mf"),
        (PrinterModel.A1_MINI, "file:///sdcard/cache/Box.3mf"),
        (PrinterModel.X1C, "file:///sdcard/cache/Box.3mf"),
        (PrinterModel.H2D, "ftp:///cache/Box.3mf"),
        (PrinterModel.P2S, "ftp:///cache/Box.3mf"),
    ],
)
def test_project_file_url_by_model(factory: CommandFactory, model: PrinterModel, url: str) -> None:
    """X1, P1 and A1 take the sdcard URL, later models the ftp one; the plate names the G-code."""
    body = factory.project_file(
        "/cache/Box.3mf", model=model, plate=2, ams_mapping=[-1, 3], timelapse=True
    ).payload["print"]
    assert body["url"] == url
    assert body["param"] == "Metadata/plate_2.gcode"
    assert body["subtask_name"] == "Box"
    assert (body["use_ams"], body["ams_mapping"], body["timelapse"]) == (True, [-1, 3], True)
    assert body["bed_leveling"] is body["bed_levelling"] is True


@pytest.mark.parametrize(
    "path", ["cache/Box.3mf", "/Box.stl", "/a/../b.3mf", "/a.3mf\r\nDELE /b", ""]
)
def test_project_file_refuses_odd_paths(factory: CommandFactory, path: str) -> None:
    with pytest.raises(ValueError, match=r"path|3mf"):
        factory.project_file(path, model=PrinterModel.P1S)


def test_project_file_refuses_odd_plates_and_trays(factory: CommandFactory) -> None:
    with pytest.raises(ValueError, match="plate"):
        factory.project_file("/a.3mf", model=PrinterModel.P1S, plate=0)
    with pytest.raises(ValueError, match="AMS"):
        factory.project_file("/a.3mf", model=PrinterModel.P1S, ams_mapping=[-2])


def test_skip_objects(factory: CommandFactory) -> None:
    body = factory.skip_objects([251, 151, 251]).payload["print"]
    assert (body["command"], body["obj_list"]) == ("skip_objects", [151, 251])
    with pytest.raises(ValueError, match="object ids"):
        factory.skip_objects([])
