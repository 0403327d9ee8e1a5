"""The simulator showing what real printers do on the wire (issue 13).

Each behaviour here has its source in docs/protocol.md ("Connection, TLS and the report
stream"); a simulated behaviour no real printer has would be a bug.
"""

import pytest

from simulator.device import encode_report, make_serial
from simulator.engine import MODELS, VirtualPrinter

# ------------------------------------------------------------------------------ odd bytes


@pytest.mark.parametrize("model", sorted(MODELS))
def test_p1_and_a1_send_a_file_name_that_is_not_utf8_while_preparing(model: str) -> None:
    """P1 and A1 printers put bytes that are not UTF-8 in `gcode_file` while they prepare."""
    engine = VirtualPrinter(make_serial(model), model)
    engine.start_job("Würfel")
    payload = encode_report(engine.full_report())
    odd = MODELS[model].family in ("p1", "a1")
    if odd:
        with pytest.raises(UnicodeDecodeError):
            payload.decode("utf-8")
        assert b"W\xfcrfel" in payload  # the name's latin-1 byte, raw
    else:
        payload.decode("utf-8")
    engine.advance(60.0)  # preparation over: the field is plain text again
    encode_report(engine.full_report()).decode("utf-8")
