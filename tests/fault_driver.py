"""Run ``ilac-plan`` with a fault injected (a test helper, never imported by the package).

    python fault_driver.py PHASE SIGNAL ilac-plan-arguments...

PHASE is where the process signals itself: ``tiles`` (when the 4th tile starts),
``outputs`` (when the tables are written, the GeoTIFFs being written beside them),
``swap`` (after the 3rd file was moved into place) or ``none``. SIGNAL is ``SIGINT``,
``SIGTERM`` or ``SIGKILL``. ``ENOSPC`` as SIGNAL makes the tables' write fail as on a
full disk instead.
"""

import errno
import os
import signal
import sys

import ilac_plan.engine as engine
import ilac_plan.exports as exports
from ilac_plan.cli import cli

phase, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def fire():
    if what == "ENOSPC":
        raise OSError(errno.ENOSPC, "No space left on device")
    os.kill(os.getpid(), getattr(signal, what))


if phase == "tiles":
    compute, count = engine.compute_tile, [0]

    def compute_tile(job, tile):
        count[0] += 1
        if count[0] == 4:
            fire()
        return compute(job, tile)

    engine.compute_tile = compute_tile
elif phase == "outputs":
    tables = exports.write_tables

    def write_tables(*a, **kw):
        fire()
        return tables(*a, **kw)

    exports.write_tables = write_tables
elif phase == "swap":
    replace, moved = os.replace, [0]

    def counting_replace(src, dst, *a, **kw):
        replace(src, dst, *a, **kw)
        if ".ilac-partial-" in str(src):
            moved[0] += 1
            if moved[0] == 3:
                fire()

    os.replace = counting_replace

cli.main(args, prog_name="ilac-plan")
