"""Home Assistant for the demo: trusts the simulator's CA, then runs as ``hass`` would.

Simulated printers cannot hold certificates signed by Bambu Lab, and the integration has no
setting to trust anything else, by design. So the demo starts Home Assistant through this
module, which replaces the CA the integration trusts (for this process only) before Home
Assistant imports it.

    python -m scripts.demo_hass CA_FILE [Home Assistant arguments ...]
"""

import sys
from pathlib import Path

from homeassistant.__main__ import main as hass_main

from simulator.testing import trusting_ca


def main() -> int:
    """Run Home Assistant with the remaining arguments while trusting the CA file given."""
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    ca_file = Path(sys.argv[1])
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    with trusting_ca(ca_file):
        return hass_main()


if __name__ == "__main__":
    sys.exit(main())
