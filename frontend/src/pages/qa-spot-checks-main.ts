/**
 * The spot-check queue (qa_spot_checks.html): each sampled image with the annotator's work drawn on it; accept,
 * or return it with a comment. Also draws a new sample, and says whether each recorded sample is reproducible.
 */
import { type SpotCheckWithWork, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { type FormSubmit, apiFormsWire, optionalNumberField } from "./apiForms";
import { geometryStroke, imageLoad, outlineWidthPx } from "./canvas";
import { datasetId } from "./pageData";

const WORK_COLOR = "#12b76a";

const submits: Readonly<Record<string, FormSubmit>> = {
  "spot-check-sample-draw": (form) =>
    api.spotCheckSampleDraw(datasetId(form, "projectId"), { seed: optionalNumberField(form, "seed") }),
};

async function workDraw(canvas: HTMLCanvasElement, check: SpotCheckWithWork): Promise<void> {
  const image = await imageLoad(check.image.urls.display!);
  canvas.width = check.image.width;
  canvas.height = check.image.height;
  const context = canvas.getContext("2d")!;
  context.drawImage(image, 0, 0);
  for (const annotation of check.annotations) {
    geometryStroke(context, annotation.geometry, WORK_COLOR, outlineWidthPx(check.image.width));
  }
}

async function spotCheckCard(check: SpotCheckWithWork): Promise<HTMLElement> {
  const title = element(
    "h3",
    {},
    `${check.image.original_filename} · by ${check.annotator ?? ""} · ${check.annotations.length} defect(s)`,
  );
  const canvas = element("canvas");
  const comment = element("textarea", { placeholder: "What to fix (needed to return the image)", rows: "2" });
  const accept = element("button", {}, "Accept");
  const reject = element("button", { class: "danger" }, "Return to annotator");
  const status = element("p", { class: "small" });
  const card = element(
    "article",
    { class: "card spot-check", "data-spot-check": String(check.id) },
    title,
    canvas,
    comment,
    accept,
    " ",
    reject,
    status,
  );
  const decide = async (verdict: "accept" | "reject"): Promise<void> => {
    accept.disabled = reject.disabled = true;
    try {
      // The comment is read only when returning the image, and must then say what to fix.
      const decided = await api.spotCheckDecide(check.id, { verdict, comment: verdict === "reject" ? comment.value : "" });
      status.textContent = decided.status === "accepted" ? "Accepted." : `Returned to ${check.annotator ?? ""}.`;
      card.classList.add("decided");
    } catch (error) {
      status.textContent = errorMessage(error);
      accept.disabled = reject.disabled = false;
    }
  };
  accept.addEventListener("click", () => void decide("accept"));
  reject.addEventListener("click", () => void decide("reject"));
  await workDraw(canvas, check);
  return card;
}

/** Fills each sample row's "Repeatable" cell: does the recorded seed draw the recorded sample again? */
async function reproducibilityShow(projectId: number): Promise<void> {
  const samples = await api.spotCheckSampleList(projectId);
  for (const sample of samples.results) {
    const cell = document.querySelector(`.reproducible[data-sample='${sample.id}']`);
    if (cell) cell.textContent = sample.is_reproducible ? "yes: same seed, same sample" : "NO";
  }
}

async function start(): Promise<void> {
  const root = byId("spot-checks");
  const projectId = datasetId(root, "projectId");
  const checks = await api.spotCheckList(projectId);
  for (const check of checks.results) root.appendChild(await spotCheckCard(check));
  await reproducibilityShow(projectId).catch(() => undefined); // the column keeps its "…"
  root.dataset.ready = "true";
}

apiFormsWire(submits);
void start();
