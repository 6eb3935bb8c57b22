"""Run the scheduled service on a simulated clock in a process of its own (test_service.py).

    python tests/serve_driver.py CONFIG START UNTIL

START and UNTIL are ISO times with a zone. Waits are skipped and the clock moves with the real
time jobs take, so two simulated hours take seconds, and a test can kill the process while a
real cycle is running.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime

from kkmp_sheets import config
from kkmp_sheets.clock import SimulatedClock
from kkmp_sheets.service.serve import Service


def main(argv: list[str]) -> int:
    cfg = config.load(argv[0])
    start, until = datetime.fromisoformat(argv[1]), datetime.fromisoformat(argv[2])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    Service(cfg, clock=SimulatedClock(start, real_time=True)).run(until=until)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
