// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Job } from "../api/client";
import { JOB_POLL_INTERVAL_MS, jobProgress, jobProgressText } from "./jobProgress";

function job(fields: Partial<Job> = {}): Job {
  return {
    id: 7,
    kind: "dataset_export",
    status: "running",
    progress_done: 0,
    progress_total: null,
    message: "",
    error: "",
    created_by: "admin",
    created_at: "2025-01-01T00:00:00Z",
    started_at: null,
    finished_at: null,
    result: {},
    can_cancel: false,
    ...fields,
  };
}

interface Sent {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** A server that answers GET /api/v1/jobs/7/ with the next of `answers` (the last one again once they run out). */
function fakeServer(answers: Array<Job | number>, cancelAnswer?: Job): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    sent.push({ method: String(init.method), url, headers: init.headers as Record<string, string> });
    const answer = url.endsWith("/cancel/") ? cancelAnswer! : answers.length > 1 ? answers.shift()! : answers[0]!;
    if (answer === 0) throw new TypeError("Failed to fetch");
    const status = typeof answer === "number" ? answer : 200;
    const body = typeof answer === "number" ? { code: "not_found", message: "No such job." } : answer;
    return { status, ok: status < 300, text: async () => JSON.stringify(body) };
  });
  return sent;
}

function parts(container: HTMLElement): { bar: HTMLProgressElement; text: string; cancel: HTMLButtonElement } {
  return {
    bar: container.querySelector("progress")!,
    text: container.querySelector(".job-message")!.textContent ?? "",
    cancel: container.querySelector<HTMLButtonElement>(".job-cancel")!,
  };
}

describe("job progress", () => {
  let container: HTMLElement;
  beforeEach(() => {
    vi.useFakeTimers();
    container = document.createElement("div");
    document.body.replaceChildren(container);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("polls about once a second until the job succeeds, then calls back once", async () => {
    // given
    const sent = fakeServer([
      job({ status: "queued" }),
      job({ progress_done: 3, progress_total: 10, message: "Writing images" }),
      job({ status: "succeeded", progress_done: 10, progress_total: 10, message: "Export ready.", result: { file: 1 } }),
    ]);
    const onSucceeded = vi.fn();
    const onFailed = vi.fn();
    // when
    jobProgress(container, 7, { onSucceeded, onFailed });
    await vi.advanceTimersByTimeAsync(0);
    // then: queued, the bar indeterminate
    expect(parts(container).text).toBe("Waiting for a worker…");
    expect(parts(container).bar.hasAttribute("value")).toBe(false);
    // when
    await vi.advanceTimersByTimeAsync(JOB_POLL_INTERVAL_MS);
    // then
    expect(parts(container).text).toBe("Writing images (3 of 10)");
    expect([parts(container).bar.value, parts(container).bar.max]).toEqual([3, 10]);
    // when
    await vi.advanceTimersByTimeAsync(JOB_POLL_INTERVAL_MS);
    await vi.advanceTimersByTimeAsync(5 * JOB_POLL_INTERVAL_MS);
    // then: done, and nothing more asked
    expect(parts(container).text).toBe("Export ready.");
    expect(parts(container).bar.value).toBe(parts(container).bar.max);
    expect(onSucceeded).toHaveBeenCalledTimes(1);
    expect(onSucceeded.mock.calls[0]![0].result).toEqual({ file: 1 });
    expect(onFailed).not.toHaveBeenCalled();
    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual(new Array(3).fill("GET /api/v1/jobs/7/"));
  });

  it("says why a job failed and calls back as failed", async () => {
    fakeServer([job({ status: "failed", error: "The disk is full." })]);
    const onFailed = vi.fn();
    jobProgress(container, 7, { onFailed });
    await vi.advanceTimersByTimeAsync(0);
    expect(parts(container).text).toBe("Failed: The disk is full.");
    expect(onFailed).toHaveBeenCalledTimes(1);
  });

  it("offers Cancel while the job can be cancelled, and stops on the cancelled job", async () => {
    // given
    document.cookie = "csrftoken=token-1";
    const sent = fakeServer([job({ can_cancel: true, progress_total: 4 })], job({ status: "cancelled" }));
    const onFailed = vi.fn();
    jobProgress(container, 7, { onFailed });
    await vi.advanceTimersByTimeAsync(0);
    expect(parts(container).cancel.hidden).toBe(false);
    // when
    parts(container).cancel.click();
    await vi.advanceTimersByTimeAsync(5 * JOB_POLL_INTERVAL_MS);
    // then
    const cancel = sent.find((request) => request.method === "POST")!;
    expect([cancel.url, cancel.headers["X-CSRFToken"]]).toEqual(["/api/v1/jobs/7/cancel/", "token-1"]);
    expect(parts(container).text).toBe("Cancelled.");
    expect(parts(container).cancel.hidden).toBe(true);
    expect(onFailed).toHaveBeenCalledTimes(1);
    expect(sent.length).toBe(2); // the first poll and the cancel: no polling after the end
  });

  it("hides Cancel when the server does not allow it", async () => {
    fakeServer([job({ can_cancel: false })]);
    jobProgress(container, 7);
    await vi.advanceTimersByTimeAsync(0);
    expect(parts(container).cancel.hidden).toBe(true);
  });

  it("asks again after a lost answer, but stops on an error answer", async () => {
    // given: the network drops once, then the job is gone
    const sent = fakeServer([0, 404]);
    jobProgress(container, 7);
    // when
    await vi.advanceTimersByTimeAsync(10 * JOB_POLL_INTERVAL_MS);
    // then
    expect(sent.length).toBe(2);
    expect(parts(container).text).toBe("No such job.");
  });
});

describe("job progress text", () => {
  it("shows the counts only when the job knows its total", () => {
    expect(jobProgressText(job({ progress_done: 2 }))).toBe("Working…");
    expect(jobProgressText(job({ progress_done: 2, progress_total: 5 }))).toBe("Working… (2 of 5)");
  });
});
