"""Give up on a call that does not return in time: a wait in a daemon thread.

For what we cannot interrupt ourselves. On Windows, azure-identity's CLI timeout kills the
`az.cmd` wrapper, but `subprocess.run` then reads the pipes until the CLI's own Python child
closes them (CPython Lib/subprocess.py `run()`: after `kill()`, Windows calls `communicate()`
again without a timeout). msal waits for the Windows broker without a limit (msal/broker.py:
`callback_data.signal.wait()`). The thread is a daemon: if it never returns, the process
still exits, and the lock that the lookup holds is released when we give up.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


class GaveUp(Exception):
    """The call did not return within the allowed seconds (it may still be running)."""


def call_bounded(call: Callable[[], T], seconds: float) -> T:
    """`call()`'s result or exception; GaveUp when it takes longer than `seconds`."""
    outcome: list[tuple[bool, object]] = []
    context = contextvars.copy_context()  # azure-identity keeps state in context variables

    def run() -> None:
        try:
            outcome.append((True, context.run(call)))
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="azure-artifacts-bounded", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if not outcome:
        raise GaveUp(f"gave no answer within {seconds:g} s")
    ok, value = outcome[0]
    if not ok:
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[return-value]
