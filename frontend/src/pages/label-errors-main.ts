/**
 * The label-error review page (assist/templates/assist/label_errors.html): each final answer the promoted model
 * doubts, the image with its final annotations beside the image with the model's drawing; keep the label, or
 * send the image to QA's consensus review (an edge case on the QA page, with the model's scores and the note).
 */
import { type LabelError, type LabelErrorOutcome, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { geometryStroke, imageLoad, outlineWidthPx } from "./canvas";
import { jobButtonWire } from "./labelReviewJob";
import { datasetId } from "./pageData";

const LABEL_COLOR = "#12b76a";
const MODEL_COLOR = "#f79009";

async function sideBySide(entry: LabelError): Promise<HTMLElement> {
  const image = await imageLoad(entry.image.urls.display!);
  const draw = (title: string, color: string, geometries: readonly LabelError["prediction"][number]["geometry"][]): HTMLElement => {
    const canvas = element("canvas", { "aria-label": title });
    canvas.width = entry.image.width;
    canvas.height = entry.image.height;
    const context = canvas.getContext("2d")!;
    context.drawImage(image, 0, 0);
    for (const geometry of geometries) geometryStroke(context, geometry, color, outlineWidthPx(entry.image.width));
    return element("figure", {}, canvas, element("figcaption", { class: "small" }, title));
  };
  return element(
    "div",
    { class: "pair" },
    draw("The final annotations", LABEL_COLOR, entry.annotations.map((annotation) => annotation.geometry)),
    draw("The model's prediction", MODEL_COLOR, entry.prediction.map((region) => region.geometry)),
  );
}

function percent(value: number): string {
  return `${Math.round(value * 100)} %`;
}

async function labelErrorCard(entry: LabelError): Promise<HTMLElement> {
  const confidences = entry.annotations.map((annotation) => `#${annotation.id}: ${percent(annotation.self_confidence)}`);
  const summary = element(
    "p",
    { class: "small" },
    `Label quality ${entry.score.toFixed(3)} · model's confidence in each annotation: ${confidences.join(", ") || "none (judged defect-free)"}` +
      ` · ${entry.unlabelled_defect_px} px it sees as defect left unlabelled`,
  );
  const labelledBy = entry.annotators.length ? `labelled by ${entry.annotators.join(", ")}` : "imported or drawn by a reviewer";
  const comment = element("textarea", { placeholder: "What looks wrong (optional, goes with the consensus review)", rows: "2" });
  const keep = element("button", {}, "Label is right");
  const review = element("button", { class: "danger" }, "Send to consensus review");
  const status = element("p", { class: "small", role: "status" });
  const card = element(
    "article",
    { class: "card label-error", "data-label-error": String(entry.id) },
    element("h3", {}, `${entry.image.original_filename} · ${labelledBy}`),
    await sideBySide(entry),
    summary,
    comment,
    keep,
    " ",
    review,
    status,
  );
  const decide = async (outcome: LabelErrorOutcome): Promise<void> => {
    keep.disabled = review.disabled = true;
    try {
      const decided = await api.labelErrorDecide(entry.id, outcome, comment.value);
      status.textContent = decided.status === "kept" ? "Kept: the label is right." : "Sent to consensus review (QA page, edge cases).";
      card.classList.add("decided");
    } catch (error) {
      status.textContent = errorMessage(error);
      keep.disabled = review.disabled = false;
    }
  };
  keep.addEventListener("click", () => void decide("kept"));
  review.addEventListener("click", () => void decide("flagged"));
  return card;
}

async function start(): Promise<void> {
  const root = byId("label-error-cards");
  const projectId = datasetId(root, "projectId");
  jobButtonWire("label-errors-start", "label-errors-status", () => api.labelErrorsStart(projectId));
  for (const entry of await api.labelErrorList(projectId)) root.appendChild(await labelErrorCard(entry));
  root.dataset.ready = "true";
}

void start();
