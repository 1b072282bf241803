"""Freezing the long-lived heap: once per process, and never freezing garbage."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import gc, weakref
from woorizip.heap import freeze_long_lived_objects

class Node:
    pass

kept = Node()
cycle = Node()
cycle.other = cycle  # only the cyclic collector can free it
dead = weakref.ref(cycle)
del cycle
gc.disable()  # so that nothing but the call under test collects it
before = gc.get_freeze_count()
freeze_long_lived_objects()
after = gc.get_freeze_count()
freeze_long_lived_objects()
print(before, after, gc.get_freeze_count(), dead() is None)
"""


def test_freezing_happens_once_after_collecting_what_start_up_left_behind() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    before, after, again, collected = result.stdout.split()
    assert int(before) == 0 < int(after) == int(again)
    assert collected == "True"
