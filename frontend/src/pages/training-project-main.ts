/**
 * The project page's training panel (project_detail.html, #training-panel): the project's runs and models, and for
 * admins the form that trains a model on a dataset version (POST, then the run's page). Everything comes from the
 * training API; the server checks every role.
 */
import { type InteractiveModel, type TrainedModel, type TrainingRun, type TrainingRunStartInput, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { datasetId } from "./pageData";
import { decimal, percent } from "./training/figures";

const panel = byId("training-panel");
const projectId = datasetId(panel, "projectId");

/** The run and model pages; not API paths, so they are written here. */
function runPageUrl(runId: number): string {
  return `/projects/${projectId}/training-runs/${runId}/`;
}
function modelPageUrl(modelId: number): string {
  return `/projects/${projectId}/models/${modelId}/`;
}

function runsShow(runs: readonly TrainingRun[]): void {
  const rows = runs.map((run) =>
    element(
      "tr",
      {},
      element("td", {}, element("a", { href: runPageUrl(run.id) }, `Run ${run.id}`)),
      element("td", {}, run.dataset_version_name),
      element("td", {}, String(run.recipe["name"] ?? "")),
      element("td", {}, run.job.status),
      element("td", {}, `${run.step}${run.total_steps === null ? "" : ` of ${run.total_steps}`}`),
      element("td", {}, run.model_id === null ? "—" : element("a", { href: modelPageUrl(run.model_id) }, `Model ${run.model_id}`)),
    ),
  );
  byId("training-runs").replaceChildren(...(rows.length ? rows : [element("tr", {}, element("td", { colspan: "6", class: "muted" }, "No training runs yet."))]));
}

function modelsShow(models: readonly (TrainedModel | InteractiveModel)[]): void {
  const rows = models.map((model) => {
    const isInteractive = model.kind === "interactive";
    const segmentation = isInteractive ? null : (model as TrainedModel).metrics;
    return element(
      "tr",
      {},
      element(
        "td",
        {},
        element("a", { href: modelPageUrl(model.id) }, `Model ${model.id}`),
        isInteractive ? " (interactive)" : "",
        model.is_promoted ? " (promoted)" : "",
      ),
      element("td", {}, model.dataset_version_name),
      element("td", {}, decimal(segmentation ? segmentation.mean_defect_iou : (model as InteractiveModel).metrics.box_mean_iou)),
      element("td", {}, percent(segmentation?.detection_rate)),
      element("td", {}, percent(segmentation?.false_alarm_rate)),
    );
  });
  byId("training-models").replaceChildren(...(rows.length ? rows : [element("tr", {}, element("td", { colspan: "5", class: "muted" }, "No models yet."))]));
}

api.trainingRunList(projectId).then(runsShow, (error: unknown) => (byId("training-status").textContent = errorMessage(error)));
api.trainedModelList(projectId).then(modelsShow, () => undefined); // the same role check answered the runs' call

const form = document.getElementById("training-form") as HTMLFormElement | null;
form?.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const minutes = Number(data.get("minutes"));
  const recipe = String(data.get("recipe") ?? "");
  const input: TrainingRunStartInput = {
    version_id: Number(data.get("version_id")),
    ...(minutes > 0 ? { minutes } : {}),
    ...(recipe ? { recipe } : {}),
  };
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  if (button) button.disabled = true;
  byId("training-status").textContent = "Starting…";
  api.trainingRunStart(projectId, input).then(
    (run) => window.location.assign(runPageUrl(run.id)),
    (error: unknown) => {
      byId("training-status").textContent = `Refused: ${errorMessage(error)}`;
      if (button) button.disabled = false;
    },
  );
});
