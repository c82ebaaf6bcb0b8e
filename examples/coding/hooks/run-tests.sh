#!/bin/sh
# on_finish gate of examples/coding: a final answer is accepted only when the tests pass.
# Runs in gossamer's sandbox with the workspace read-only as its working directory; the JSON
# on stdin (the session, the reason, the answer) is not needed here.
cat > /dev/null
if out=$(python3 test_calc.py 2>&1); then
    exit 0
fi
printf 'the tests still fail:\n%s\n' "$out" >&2
exit 2
