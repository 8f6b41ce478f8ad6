"""Following a fine-tuning job: poll its status, hand out its new events, stop at a final state."""

from __future__ import annotations

import time
from collections.abc import Callable

import openai
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent

from ftprep.upload.answers import call_api, expect_field, expect_object, expect_page
from ftprep.upload.limits import DEFAULT_POLL_INTERVAL
from ftprep.upload.polling import poll_until_ended

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
# A paused job makes no progress until someone resumes it: waiting on it would never end.
STOP_STATUSES = TERMINAL_STATUSES | {"paused"}
_EVENT_PAGE = 100


def retrieve_job(client: openai.OpenAI, job_id: str) -> FineTuningJob:
    """The job as the API reports it now; UploadError with the API's reason when that fails."""
    action = f"reading job {job_id}"
    job = expect_object(call_api(action, lambda: client.fine_tuning.jobs.retrieve(job_id)),
                        FineTuningJob, action, what="fine-tuning job")
    # Without a status the loop below could not tell that the job ended, and would poll for ever.
    expect_field(job, "status", str, action)
    return job


def recent_events(client: openai.OpenAI, job_id: str, *, limit: int = _EVENT_PAGE) -> list[FineTuningJobEvent]:
    """Up to ``limit`` most recent events of a job, oldest first (the API lists newest first)."""
    action = f"reading the events of job {job_id}"
    page = call_api(action, lambda: client.fine_tuning.jobs.list_events(job_id, limit=limit))
    return list(reversed(expect_page(page, FineTuningJobEvent, action, what="job event")))


def follow_job(
    client: openai.OpenAI,
    job_id: str,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    on_status: Callable[[FineTuningJob], None] | None = None,
    on_event: Callable[[FineTuningJobEvent], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FineTuningJob:
    """Poll a job until it succeeds, fails, is cancelled or paused; return its last state.

    ``on_status`` is called when the status changes (and once at the start), ``on_event`` once per event,
    oldest first, including the events that happened before following began.
    """
    return poll_until_ended(lambda: retrieve_job(client, job_id), lambda: recent_events(client, job_id),
                            lambda job: str(job.status), lambda job: job.status in STOP_STATUSES,
                            poll_interval=poll_interval, on_status=on_status, on_event=on_event, sleep=sleep)
