"""Following a job on any service: poll it, hand out each new event once, report status changes, stop when it
ends. The service-specific parts (how to read the job and its events, which states end it) are passed in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar


class _Event(Protocol):
    @property
    def id(self) -> str: ...


J = TypeVar("J")
E = TypeVar("E", bound=_Event)


def poll_until_ended(retrieve: Callable[[], J], events: Callable[[], Iterable[E]], status: Callable[[J], str],
                     ended: Callable[[J], bool], *, poll_interval: float,
                     on_status: Callable[[J], None] | None = None, on_event: Callable[[E], None] | None = None,
                     sleep: Callable[[float], None] = time.sleep) -> J:
    """Poll until ``ended(job)``; ``on_status`` at the start and on each change of status, ``on_event`` once per
    event (by id), in the order ``events`` gives them. Returns the job's last state."""
    seen: set[str] = set()
    last: str | None = None
    while True:
        job = retrieve()
        if on_event is not None:
            for event in events():
                if event.id not in seen:
                    seen.add(event.id)
                    on_event(event)
        if status(job) != last:
            last = status(job)
            if on_status is not None:
                on_status(job)
        if ended(job):
            return job
        sleep(poll_interval)
