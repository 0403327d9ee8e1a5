"""Home Assistant for the demo: trusts the simulator's CA, then runs as ``hass`` would.

Simulated printers cannot hold certificates signed by Bambu Lab, and the integration has no
setting to trust anything else, by design. So the demo starts Home Assistant through this
module, which replaces the CA the integration trusts (for this process only) before Home
Assistant imports it. It also moves the LAN discovery listener from every interface's UDP
2021 to 127.0.0.1 on the port in $BAMBU_DEMO_DISCOVERY_PORT, where the simulated printers
announce themselves (the demo stays on loopback and does not meet a real printer's port).

    python -m scripts.demo_hass CA_FILE [Home Assistant arguments ...]
"""

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from unittest.mock import patch

from homeassistant.__main__ import main as hass_main

from custom_components.bambu_printer import discovery
from simulator.testing import trusting_ca

DISCOVERY_PORT_ENV = "BAMBU_DEMO_DISCOVERY_PORT"


def main() -> int:
    """Run Home Assistant with the remaining arguments while trusting the CA file given."""
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    ca_file = Path(sys.argv[1])
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    with ExitStack() as stack:
        stack.enter_context(trusting_ca(ca_file))
        port = os.environ.get(DISCOVERY_PORT_ENV)
        if port is not None:
            stack.enter_context(patch.object(discovery, "LISTEN_HOST", "127.0.0.1"))
            stack.enter_context(patch.object(discovery, "LISTEN_PORT", int(port)))
        return hass_main()


if __name__ == "__main__":
    sys.exit(main())
