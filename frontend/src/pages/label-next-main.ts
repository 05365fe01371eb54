/**
 * The label-next page (assist/templates/assist/label_next.html): rank the unlabelled images again, and assign the
 * next new images, in the ranking's order, to an annotator.
 */
import { api, errorMessage } from "../api/client";
import { byId } from "../editor/dom";
import { jobButtonWire } from "./labelReviewJob";
import { datasetId } from "./pageData";

const projectId = datasetId(byId("label-next"), "projectId");
jobButtonWire("label-next-start", "label-next-status", () => api.labelNextStart(projectId));

const form = byId("assign-next") as HTMLFormElement;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const status = byId("assign-next-status");
  const fields = new FormData(form);
  const annotator = String(fields.get("annotator") ?? "");
  api.assignmentCreate(projectId, { annotator, count: Number(fields.get("count")) }).then(
    (answer) => {
      status.textContent = `${answer.assigned} new images assigned to ${annotator}.`;
    },
    (error: unknown) => (status.textContent = errorMessage(error)),
  );
});
