"""Run a `ctdc` command (or a Python snippet), SIGKILLed just before its N-th SQL statement (issue 18, item 2).

    python tests/resilience/killer.py N ctdc-args...        # e.g. 12 worker --batch
    python tests/resilience/killer.py N -c "python code"    # a service called directly (approval)

N = 0 kills nothing: the process runs to its end and writes how many statements it ran to the file named by
$CTDC_KILLER_COUNT, which is how a test learns the range to draw its seeded kill points from. Only the main
thread's statements count (the worker's heartbeat thread writes on its own clock), so a given N lands at the same
place in the job every run: a SIGKILL between two statements is a power cut at a known point, with no cleanup,
no exception handler, no `finally` and no timing involved. Nothing in ctdc knows about this hook: it is attached
from outside, to every database connection the process opens (Django's `execute_wrappers`).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading


def main() -> None:
    limit = int(sys.argv[1])
    args = sys.argv[2:]
    count = 0
    main_thread = threading.main_thread()

    def count_then_kill(execute, sql, params, many, context):
        nonlocal count
        if threading.current_thread() is main_thread:
            count += 1
            if count == limit:
                os.kill(os.getpid(), signal.SIGKILL)
        return execute(sql, params, many, context)

    from django.db.backends.signals import connection_created

    def attach(sender, connection, **kwargs):
        if count_then_kill not in connection.execute_wrappers:
            connection.execute_wrappers.append(count_then_kill)

    connection_created.connect(attach, weak=False)
    out = os.environ.get("CTDC_KILLER_COUNT")
    if out:
        atexit.register(lambda: open(out, "w").write(str(count)))  # noqa: SIM115  (at exit: nothing to close later)
    if args[:1] == ["-c"]:
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<snippet>", "exec"), {"__name__": "__main__"})
        return
    from ctdc.cli.main import cli

    cli.main(args, prog_name="ctdc", standalone_mode=True)


if __name__ == "__main__":
    main()
