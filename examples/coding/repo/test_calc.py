"""Tests for calc.py: python3 test_calc.py (exit 0 when every test passes)."""
import sys

import calc

FAILED = 0


def check(name, got, expected):
    global FAILED
    if got == expected:
        print(f"ok   {name}")
    else:
        FAILED += 1
        print(f"FAIL {name}: expected {expected!r}, got {got!r}")


check("add(2, 3)", calc.add(2, 3), 5)
check("add(-1, 1)", calc.add(-1, 1), 0)
check("scale([1, 2], 3)", calc.scale([1, 2], 3), [3, 6])
print(f"{3 - FAILED} passed, {FAILED} failed")
sys.exit(1 if FAILED else 0)
