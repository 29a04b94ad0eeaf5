"""Moves the clock of a Python subprocess started by a test, as tests/conftest.py moves the test
process's own: with AIWINS_TEST_CLOCK_SHIFT_DAYS=N, N days ahead, ticking. The conftest puts this
folder on PYTHONPATH only while it shifts the clock, so a process it starts (`aiwins serve`, the
demo) agrees with the test about what time it is: signatures, leases and due dates all match."""

import os

_DAYS = int(os.environ.get("AIWINS_TEST_CLOCK_SHIFT_DAYS") or 0)
if _DAYS:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=_DAYS), tick=True).start()
