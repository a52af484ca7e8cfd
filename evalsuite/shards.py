"""Which prompts shard I of N of a run holds (`evalsuite run --shard I/N`), and the manifest its folder keeps.
It must never choose prompts by position: a prompt's shard is a hash of its id, so rows added to the data
leave every other prompt in its shard, and every process on every machine agrees."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalsuite.errors import EvalError
from evalsuite.store import OutputDir, write_json_atomic

if TYPE_CHECKING:
    from evalsuite.config import EvalConfig
    from evalsuite.data import Example

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``, counted from 0 as Slurm numbers the tasks of ``--array=0-3``.

    >>> Shard.parse(" 1 / 4"), str(Shard.parse("1/4"))
    (Shard(index=1, count=4), '1/4')
    """

    index: int
    count: int

    @classmethod
    def parse(cls, spec: Any) -> Shard:
        """``"I/N"`` as a Shard; a malformed spelling, N < 1 or I >= N is one EvalError."""
        match = _SPEC.match(str(spec))
        if not match:
            raise EvalError(f"--shard must be I/N, shard I of N counted from 0 (e.g. 0/4 to 3/4), got {spec!r}")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1:
            raise EvalError(f"--shard {spec}: N (the number of shards) must be >= 1")
        if index >= count:
            raise EvalError(f"--shard {spec}: I counts from 0, so it must be below N: 0/{count} to {count - 1}/{count} "
                            f"(as Slurm's --array=0-{count - 1} numbers $SLURM_ARRAY_TASK_ID)")
        return cls(index, count)

    def holds(self, prompt_id: Any) -> bool:
        return shard_index(prompt_id, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_index(prompt_id: Any, count: int) -> int:
    """The shard (of ``count``) that holds a prompt: the SHA-256 of the id's JSON (so ``3`` and ``"3"`` are
    different ids, as in samples.jsonl) modulo ``count``.

    >>> [shard_index(i, 3) for i in range(8)], shard_index("gsm8k-17", 3)
    ([0, 1, 1, 1, 1, 2, 0, 2], 1)
    """
    digest = hashlib.sha256(json.dumps(prompt_id, ensure_ascii=False).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def select(examples: Sequence[Example], spec: str | None) -> list[Example]:
    """The examples shard ``spec`` holds, in data order; all of them when ``spec`` is None."""
    if spec is None:
        return list(examples)
    shard = Shard.parse(spec)
    return [e for e in examples if shard.holds(e.id)]


def data_fingerprint(examples: Sequence[Example]) -> str:
    """One hash of a run's whole data: every prompt id with its ``data_hash``, in data order."""
    text = json.dumps([[e.id, e.data_hash] for e in examples], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_manifest(out: OutputDir, config: EvalConfig, settings: dict, examples: Sequence[Example]) -> None:
    """``DIR/shard.json``, written as a sharded run starts: the shard, the run's whole config (``model`` and
    ``data`` as its saved settings name them) and the full data it is a part of (``prompts``, ``hash``, every
    ``id`` in order), which `evalsuite merge` checks the shards against."""
    write_json_atomic(out.shard, {
        "shard": config.shard,
        "config": {**config.to_dict(), "model": settings["model"], "data": settings["data"]},
        "data": {"prompts": len(examples), "hash": data_fingerprint(examples), "ids": [e.id for e in examples]},
    })
