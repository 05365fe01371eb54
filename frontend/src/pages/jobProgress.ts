/**
 * A background job's progress, for any page: a <progress> bar, the job's message, and Cancel while the server
 * allows it. Polls GET /api/v1/jobs/{id}/ about once a second until the job ends, then calls back once.
 *
 *   jobProgress(byId("export-status"), job.id, { onSucceeded: (job) => linkShow(job.result) });
 */
import { type Job, type JobStatus, api, errorMessage } from "../api/client";
import { element } from "../editor/dom";
import { type Polling, pollUntilDone } from "./poll";

export const JOB_POLL_INTERVAL_MS = 1000;

const TERMINAL: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "cancelled"]);

export function jobIsFinished(job: Job): boolean {
  return TERMINAL.has(job.status);
}

export interface JobProgressOptions {
  readonly onSucceeded?: (job: Job) => void;
  /** Failed or cancelled. */
  readonly onFailed?: (job: Job) => void;
  readonly pollIntervalMs?: number;
}

/** The line under the bar: what the job says it is doing, or how it ended. */
export function jobProgressText(job: Job): string {
  const counted = job.progress_total === null ? "" : ` (${job.progress_done} of ${job.progress_total})`;
  switch (job.status) {
    case "queued":
      return "Waiting for a worker…";
    case "running":
      return `${job.message || "Working…"}${counted}`;
    case "succeeded":
      return job.message || "Done.";
    case "failed":
      return `Failed: ${job.error || job.message || "no reason given"}`;
    case "cancelled":
      return "Cancelled.";
  }
}

/** Done of total; without a total (not known yet, or still queued) the bar is indeterminate. */
function barShow(bar: HTMLProgressElement, job: Job): void {
  if (job.status === "succeeded") {
    bar.max = 1;
    bar.value = 1;
  } else if (job.progress_total && job.status !== "queued") {
    bar.max = job.progress_total;
    bar.value = Math.min(job.progress_done, job.progress_total);
  } else {
    bar.removeAttribute("value");
  }
}

/** Renders into `container` (replacing what it held) and follows the job; stop() ends the polling. */
export function jobProgress(container: HTMLElement, jobId: number, options: JobProgressOptions = {}): Polling {
  const bar = element("progress", { class: "job-bar" });
  const text = element("p", { class: "job-message", role: "status" });
  const cancel = element("button", { type: "button", class: "secondary-button job-cancel", hidden: "" }, "Cancel");
  container.replaceChildren(bar, text, cancel);
  let isFinished = false;
  let polling: Polling | undefined;
  const show = (job: Job): void => {
    if (isFinished) return;
    barShow(bar, job);
    text.textContent = jobProgressText(job);
    cancel.hidden = !job.can_cancel || jobIsFinished(job);
    if (!jobIsFinished(job)) return;
    isFinished = true;
    polling?.stop();
    if (job.status === "succeeded") options.onSucceeded?.(job);
    else options.onFailed?.(job);
  };
  polling = pollUntilDone({
    load: () => api.jobGet(jobId),
    isDone: jobIsFinished,
    onUpdate: show,
    onError: (error) => (text.textContent = errorMessage(error)),
    intervalMs: options.pollIntervalMs ?? JOB_POLL_INTERVAL_MS,
  });
  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    api.jobCancel(jobId).then(show, (error: unknown) => {
      text.textContent = errorMessage(error);
      cancel.disabled = false;
    });
  });
  return polling;
}
