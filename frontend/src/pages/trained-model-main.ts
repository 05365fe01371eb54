/**
 * A model's page (trained_model.html): its evaluation on the version's test split (figures, per-class IoU, the
 * confusion matrix), the worst cases (image, truth, prediction side by side), its files to download, Promote
 * (admins; the server checks) to make it the model pre-labels and the assist use, and Retrain (admins): its recipe
 * again on the project's newest version. An interactive (click-and-box) model shows the assist benchmark's scores
 * beside the engines its run scored on the same regions instead.
 */
import { type AssistQuality, type InteractiveModel, type ModelFileName, type TrainedModel, api, errorMessage } from "../api/client";
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

function qualityRow(name: string, quality: AssistQuality, clickMs: number | null | undefined = null): HTMLTableRowElement {
  return element(
    "tr",
    {},
    element("th", {}, name),
    element("td", {}, decimal(quality.box_mean_iou)),
    element("td", {}, quality.noc85.toFixed(2)),
    element("td", {}, quality.noc90.toFixed(2)),
    element("td", {}, quality.box_noc85.toFixed(2)),
    element("td", {}, clickMs === null || clickMs === undefined ? "—" : `${clickMs.toFixed(1)} ms`),
  );
}

/** An interactive model: box IoU and clicks to 85 / 90 % IoU (at most 20), beside the engines scored with it. */
function interactiveMetricsShow(model: InteractiveModel): void {
  const metrics = model.metrics;
  const header = ["engine", "box IoU", "NoC@85", "NoC@90", "NoC@85 after the box", "per click (p50)"];
  byId("model-metrics").replaceChildren(
    element("p", { class: "muted small" }, `${metrics.regions} defects of the ${metrics.split} split; clicks alone, or after the box (at most 20).`),
    element(
      "table",
      { class: "numbers", id: "model-quality" },
      element("thead", {}, element("tr", {}, ...header.map((name) => element("th", {}, name)))),
      element(
        "tbody",
        {},
        qualityRow(`this model (${model.id})`, metrics, metrics.click_p50_ms),
        ...Object.entries(metrics.baselines ?? {}).map(([name, quality]) => qualityRow(name, quality)),
      ),
    ),
    iouBars("Box-prompt IoU per class (test split)", metrics.per_class_iou ?? {}),
  );
  byId("model-segmentation-only").hidden = true;
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

function filesShow(model: TrainedModel | InteractiveModel): void {
  byId("model-files").replaceChildren(
    ...FILES.filter(([name]) => model.files.includes(name)).map(([name, label]) =>
      element("li", {}, element("a", { href: api.trainedModelFileUrl(model.id, name), download: "" }, label)),
    ),
  );
}

function promotedShow(model: TrainedModel | InteractiveModel): void {
  const use = model.kind === "interactive" ? "the editor's assist click and box use" : "pre-labels and the assist use";
  byId("model-promoted").textContent = model.is_promoted ? `Promoted: ${use} this model.` : "Not promoted.";
  const button = document.getElementById("model-promote") as HTMLButtonElement | null;
  if (button) button.hidden = model.is_promoted;
}

function show(model: TrainedModel | InteractiveModel): void {
  if (model.kind === "interactive") interactiveMetricsShow(model as InteractiveModel);
  else {
    metricsShow(model as TrainedModel);
    worstShow(model as TrainedModel);
  }
  filesShow(model);
  promotedShow(model);
}

api.trainedModelGet(modelId).then(show, (error: unknown) => (byId("model-promoted").textContent = errorMessage(error)));
const promote = document.getElementById("model-promote") as HTMLButtonElement | null;
const retrain = document.getElementById("model-retrain") as HTMLButtonElement | null;
retrain?.addEventListener("click", () => {
  retrain.disabled = true;
  const note = byId("model-retrained");
  note.hidden = false;
  api.trainedModelRetrain(modelId).then(
    (run) => {
      const projectId = page.dataset["projectId"];
      note.replaceChildren(
        `Retraining on ${run.dataset_version_name}: `,
        element("a", { href: `/projects/${projectId}/training-runs/${run.id}/` }, `run ${run.id}`),
        ". Promote its model once you have read its evaluation.",
      );
    },
    (error: unknown) => {
      note.textContent = `Refused: ${errorMessage(error)}`;
      retrain.disabled = false;
    },
  );
});
promote?.addEventListener("click", () => {
  promote.disabled = true;
  api.trainedModelPromote(modelId).then(promotedShow, (error: unknown) => {
    byId("model-promoted").textContent = `Refused: ${errorMessage(error)}`;
    promote.disabled = false;
  });
});
