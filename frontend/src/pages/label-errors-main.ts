/**
 * The label-error review page (assist/templates/assist/label_errors.html): each final answer the promoted model
 * doubts, the image with its final annotations beside the image with the model's drawing; keep the label, or
 * send the image back to its annotators with what to fix (their work goes through QA again).
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
  const comment = element("textarea", { placeholder: "What to fix (needed to send it back)", rows: "2" });
  const keep = element("button", {}, "Label is right");
  const annotators = entry.annotators.join(", ");
  // An imported answer has nobody to send it back to (the server would answer 409 no_annotator).
  const back = annotators
    ? element("button", { class: "danger" }, `Send back to ${annotators}`)
    : element("button", { class: "danger", disabled: "", title: "Imported: correct it in the editor" }, "Send back");
  const status = element("p", { class: "small", role: "status" });
  const card = element(
    "article",
    { class: "card label-error", "data-label-error": String(entry.id) },
    element("h3", {}, entry.image.original_filename),
    await sideBySide(entry),
    summary,
    comment,
    keep,
    " ",
    back,
    status,
  );
  const decide = async (outcome: LabelErrorOutcome): Promise<void> => {
    keep.disabled = back.disabled = true;
    try {
      const decided = await api.labelErrorDecide(entry.id, outcome, outcome === "returned" ? comment.value : "");
      status.textContent = decided.status === "kept" ? "Kept: the label is right." : `Sent back to ${decided.annotators.join(", ")}.`;
      card.classList.add("decided");
    } catch (error) {
      status.textContent = errorMessage(error);
      keep.disabled = false;
      back.disabled = !annotators;
    }
  };
  keep.addEventListener("click", () => void decide("kept"));
  back.addEventListener("click", () => void decide("returned"));
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
