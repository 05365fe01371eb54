/**
 * A training run's page (training_run.html): its job's progress (with Cancel), the epoch, step and ETA, the
 * training loss and the validation figures as plots, and the latest validation's per-class IoU, all following the
 * run live (GET /api/v1/training-runs/{id}/ every RUN_POLL_INTERVAL_MS) until its job ends; then the model's link.
 */
import { type TrainingRun, type ValidationRow, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { jobIsFinished, jobProgress } from "./jobProgress";
import { datasetId } from "./pageData";
import { decimal, duration, percent } from "./training/figures";
import { iouBars, linePlot } from "./training/plots";
import { pollUntilDone } from "./poll";

export const RUN_POLL_INTERVAL_MS = 2000;

const page = byId("training-run");
const runId = datasetId(page, "runId");
const projectId = datasetId(page, "projectId");

/** The model page; not an API path, so it is written here. */
function modelPageUrl(modelId: number): string {
  return `/projects/${projectId}/models/${modelId}/`;
}

function validationSeries(
  history: readonly ValidationRow[],
  key: "mean_defect_iou" | "detection_rate" | "false_alarm_rate" | "box_mean_iou",
): Array<readonly [number, number]> {
  return history.flatMap((row) => (row[key] === null || row[key] === undefined ? [] : [[row.step, row[key] as number] as const]));
}

/** An interactive run validates with the assist benchmark's scores: box IoU and clicks to 85 % IoU. */
function interactiveValidationShow(run: TrainingRun): void {
  const table = byId("run-validations").closest("table");
  const head = table?.querySelector("thead");
  head?.replaceChildren(element("tr", {}, ...["Step", "Loss", "Box IoU", "NoC@85 (at most 10)", "NoC@85 after the box"].map((name) => element("th", {}, name))));
  byId("run-validations").replaceChildren(
    ...run.history.map((row) =>
      element("tr", {}, ...[String(row.step), decimal(row.loss, 4), decimal(row.box_mean_iou), decimal(row.noc85, 2), decimal(row.box_noc85, 2)].map((text) => element("td", {}, text))),
    ),
  );
}

function progressShow(run: TrainingRun): void {
  const total = run.total_steps === null ? "" : ` of ${run.total_steps}`;
  const eta = jobIsFinished(run.job) ? "" : ` · about ${duration(run.eta_seconds)} left`;
  const resumed = run.resumed_at_steps.length ? ` · resumed at step ${run.resumed_at_steps.join(", ")} after a lost worker` : "";
  byId("run-progress").textContent =
    `${run.kind === "interactive" ? "Step" : `Epoch ${run.epoch} · step`} ${run.step}${total} · trained ${duration(run.elapsed_seconds)}${eta}${resumed}` +
    (run.device ? ` · on ${run.device}` : "");
}

function plotsShow(run: TrainingRun): void {
  const validationLoss = run.history.flatMap((row) => (row.loss === null ? [] : [[row.step, row.loss] as const]));
  byId("run-plots").replaceChildren(
    linePlot("Training loss", [
      { name: "loss (per step)", kind: "series-loss", points: run.loss_curve },
      { name: "at validation", kind: "series-validation-loss", points: validationLoss, hasDots: true },
    ]),
    linePlot(
      "Validation",
      run.kind === "interactive"
        ? [{ name: "box IoU", kind: "series-iou", points: validationSeries(run.history, "box_mean_iou"), hasDots: true }]
        : [
            { name: "mean defect IoU", kind: "series-iou", points: validationSeries(run.history, "mean_defect_iou"), hasDots: true },
            { name: "detection rate", kind: "series-detection", points: validationSeries(run.history, "detection_rate"), hasDots: true },
            { name: "false alarm rate", kind: "series-false-alarm", points: validationSeries(run.history, "false_alarm_rate"), hasDots: true },
          ],
      [0, 1],
    ),
  );
  const last = run.history[run.history.length - 1];
  byId("run-classes").replaceChildren(
    last
      ? iouBars(run.kind === "interactive" ? `Box-prompt IoU per class at step ${last.step} (validation)` : `Per-class IoU at epoch ${last.epoch} (validation)`, last.per_class_iou)
      : element("p", { class: "muted" }, "Per-class IoU appears after the first validation."),
  );
  if (run.kind === "interactive") return interactiveValidationShow(run);
  byId("run-validations").replaceChildren(
    ...run.history.map((row) =>
      element(
        "tr",
        {},
        ...[String(row.epoch), String(row.step), decimal(row.loss, 4), decimal(row.mean_defect_iou), percent(row.detection_rate), percent(row.false_alarm_rate), decimal(row.boundary_f1)].map((text) =>
          element("td", {}, text),
        ),
      ),
    ),
  );
}

function modelShow(run: TrainingRun): void {
  const link = byId<HTMLAnchorElement>("run-model");
  link.hidden = run.model_id === null;
  if (run.model_id !== null) link.href = modelPageUrl(run.model_id);
}

let isJobFollowed = false;

function show(run: TrainingRun): void {
  progressShow(run);
  plotsShow(run);
  modelShow(run);
  page.dataset.step = String(run.step);
  page.dataset.validations = String(run.history.length);
  if (!isJobFollowed) {
    isJobFollowed = true;
    jobProgress(byId("run-job"), run.job.id);
  }
}

pollUntilDone({
  load: () => api.trainingRunGet(runId),
  isDone: (run) => jobIsFinished(run.job),
  onUpdate: show,
  onError: (error) => (byId("run-progress").textContent = errorMessage(error)),
  intervalMs: RUN_POLL_INTERVAL_MS,
});
