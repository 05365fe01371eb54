/**
 * The "score again" button of the label-next and label-error pages: starts the job, follows it with
 * jobProgress, and reloads the page when it succeeded (the ranking is server-rendered). A 409 no_promoted_model
 * says what to do instead.
 */
import { type Job, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { jobProgress } from "./jobProgress";

export function jobButtonWire(buttonId: string, statusId: string, start: () => Promise<Job>): void {
  const button = byId(buttonId) as HTMLButtonElement;
  const status = byId(statusId);
  button.addEventListener("click", () => {
    button.disabled = true;
    start().then(
      (job) =>
        jobProgress(status, job.id, {
          onSucceeded: () => window.location.reload(),
          onFailed: () => (button.disabled = false),
        }),
      (error: unknown) => {
        status.replaceChildren(element("p", { class: "form-status", role: "alert" }, errorMessage(error)));
        button.disabled = false;
      },
    );
  });
}
