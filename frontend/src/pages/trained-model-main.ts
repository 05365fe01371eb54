/**
 * A model's page (trained_model.html): its evaluation on the version's test split (figures, per-class IoU, the
 * confusion matrix), the worst cases (image, truth, prediction side by side), its files to download, and Promote
 * (admins; the server checks) to make it the model pre-labels and the assist use.
 */
import { type ModelFileName, type TrainedModel, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { datasetId } from "./pageData";
import { decimal, percent } from "./training/figures";
import { iouBars } from "./training/plots";

const page = byId("trained-model");
const modelId = datasetId(page, "modelId");

const FILES: ReadonlyArray<readonly [ModelFileName, string]> = [
  ["onnx_fp32", "ONNX (fp32)"],
  ["onnx_int8", "ONNX (int8)"],
  ["checkpoint", "PyTorch checkpoint"],
  ["decision", "Decision rule (JSON)"],
];

function row(name: string, value: string): HTMLTableRowElement {
  return element("tr", {}, element("th", {}, name), element("td", {}, value));
}

function metricsShow(model: TrainedModel): void {
  const metrics = model.metrics;
  byId("model-metrics").replaceChildren(
    element(
      "table",
      { class: "numbers" },
      element(
        "tbody",
        {},
        row("Mean defect IoU", decimal(metrics.mean_defect_iou)),
        row("Detection rate (defective images)", `${percent(metrics.detection_rate)} of ${metrics.defective_images}`),
        row("False alarm rate (defect-free images)", `${percent(metrics.false_alarm_rate)} of ${metrics.defect_free_images}`),
        row("Boundary F1", decimal(metrics.boundary_f1)),
        row("Pixel accuracy", percent(metrics.pixel_accuracy)),
        row("Inference per image", metrics.inference_ms === null ? "—" : `${metrics.inference_ms.toFixed(1)} ms`),
      ),
    ),
    iouBars("Per-class IoU (test split)", metrics.per_class_iou),
  );
  const classes = metrics.confusion_matrix.classes;
  byId("model-confusion").replaceChildren(
    element(
      "table",
      { class: "numbers" },
      element("thead", {}, element("tr", {}, element("th", {}, "truth \\ prediction"), ...classes.map((name) => element("th", {}, name)))),
      element(
        "tbody",
        {},
        ...metrics.confusion_matrix.truth_by_prediction.map((counts, index) =>
          element("tr", {}, element("th", {}, classes[index] ?? ""), ...counts.map((count) => element("td", {}, count.toLocaleString()))),
        ),
      ),
    ),
  );
}

function worstShow(model: TrainedModel): void {
  const cases = model.metrics.worst_cases.map((worst, index) => {
    const what = worst.is_missed ? "missed defect" : worst.is_false_alarm ? "false alarm" : `defect IoU ${decimal(worst.defect_iou)}`;
    return element(
      "figure",
      { class: "worst-case" },
      element("img", { src: api.trainedModelWorstCaseUrl(model.id, index), alt: `${worst.name}: image, truth, prediction`, loading: "lazy" }),
      element("figcaption", {}, `${worst.name}: ${what} (truth ${worst.true_defect_px} px, predicted ${worst.predicted_defect_px} px)`),
    );
  });
  byId("model-worst").replaceChildren(...(cases.length ? cases : [element("p", { class: "muted" }, "No test images.")]));
}

function filesShow(model: TrainedModel): void {
  byId("model-files").replaceChildren(
    ...FILES.map(([name, label]) => element("li", {}, element("a", { href: api.trainedModelFileUrl(model.id, name), download: "" }, label))),
  );
}

function promotedShow(model: TrainedModel): void {
  byId("model-promoted").textContent = model.is_promoted
    ? "Promoted: pre-labels and the assist use this model."
    : "Not promoted.";
  const button = document.getElementById("model-promote") as HTMLButtonElement | null;
  if (button) button.hidden = model.is_promoted;
}

function show(model: TrainedModel): void {
  metricsShow(model);
  worstShow(model);
  filesShow(model);
  promotedShow(model);
}

api.trainedModelGet(modelId).then(show, (error: unknown) => (byId("model-promoted").textContent = errorMessage(error)));
const promote = document.getElementById("model-promote") as HTMLButtonElement | null;
promote?.addEventListener("click", () => {
  promote.disabled = true;
  api.trainedModelPromote(modelId).then(promotedShow, (error: unknown) => {
    byId("model-promoted").textContent = `Refused: ${errorMessage(error)}`;
    promote.disabled = false;
  });
});
