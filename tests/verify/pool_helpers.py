"""Shared by the worker-pool tests: tasks that, unpickled inside a worker, hold it for a while (only standard-library
calls, so a worker imports nothing of the tests), and finding the worker busy with one."""

import time


class Sleep:
    """Unpickles, inside the worker, to ``time.sleep(seconds)``: a task that holds its worker that long."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __reduce__(self):
        return time.sleep, (self.seconds,)


def busy_worker_pid(workers, other_than: int | None = None, wait: float = 60.0) -> int:
    """The pid of a worker of ``workers`` (a ``WorkerPool``) running a task, other than ``other_than``."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        busy = [w.proc.pid for w in list(workers._workers) if w.task is not None and w.proc.pid != other_than]
        if busy:
            return busy[0]
        time.sleep(0.02)
    raise AssertionError("no worker took the task")
