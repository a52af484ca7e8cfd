"""Tasks for the worker-pool tests: objects that, unpickled inside a worker, hold it for a while. They use only
standard-library calls, so a worker imports nothing of the tests."""

import time


class Sleep:
    """Unpickles, inside the worker, to ``time.sleep(seconds)``: a task that holds its worker that long."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __reduce__(self):
        return time.sleep, (self.seconds,)
