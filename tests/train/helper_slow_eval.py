"""Registers `slow_format`, a registry reward that pauses before scoring, so an evaluation outlasts a timeout.
Imported by test recipes through `imports:`; it must never be imported by grpokit itself."""

import time

import rewards


@rewards.register("slow_format", overwrite=True)
def make_slow_format(seconds: float = 20.0):
    fmt = rewards.get("format")

    def slow_format(completions, **kwargs):
        time.sleep(seconds)
        return fmt(completions, **kwargs)

    return slow_format
