/**
 * The project page's assist panel (project_detail.html): which engines the server runs, the pre-label button
 * (seniors and admins; the job followed with jobProgress) and the assist statistics (tables, plots, downloads)
 * for the roles that see them. Everything comes from the assist API: no app imports assist, the page included.
 */
import { type AssistGroupRow, type AssistStatistics, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { outcomePlot, timePlot } from "./assistPlots";
import { jobProgress } from "./jobProgress";
import { datasetId } from "./pageData";

const panel = byId("assist-panel");
const projectId = datasetId(panel, "projectId");

function percent(value: number | null): string {
  return value === null ? "—" : `${Math.round(value * 100)} %`;
}

function decimal(value: number | null, digits: number): string {
  return value === null ? "—" : value.toFixed(digits);
}

const COLUMNS = ["Suggestions", "Kept unchanged", "Edited", "Deleted", "Acceptance", "Mean IoU", "Vertex changes (edited)"];

function table(first: string, rows: ReadonlyArray<{ readonly name: string; readonly row: AssistGroupRow }>): HTMLTableElement {
  const head = element("tr", {}, ...[first, ...COLUMNS].map((title) => element("th", {}, title)));
  const body = rows.map(({ name, row }) =>
    element(
      "tr",
      {},
      ...[
        name,
        String(row.suggestions),
        String(row.unchanged),
        String(row.edited),
        String(row.deleted),
        percent(row.acceptance_rate),
        decimal(row.mean_iou, 3),
        decimal(row.mean_vertex_changes, 1),
      ].map((text) => element("td", {}, text)),
    ),
  );
  if (!body.length) body.push(element("tr", {}, element("td", { colspan: String(COLUMNS.length + 1), class: "muted" }, "No settled suggestions yet.")));
  return element("table", { class: "numbers" }, element("thead", {}, head), element("tbody", {}, ...body));
}

/** Per trained model, by id: a retrained model's row follows its predecessor's (before and after). */
function modelTable(statistics: AssistStatistics): HTMLTableElement {
  const head = element("tr", {}, ...["Model", "Kind", "Suggestions", "Acceptance", "Clicks per kept defect"].map((title) => element("th", {}, title)));
  const body = statistics.models.map((row) =>
    element(
      "tr",
      {},
      ...[`${row.engine}`, row.kind, String(row.suggestions), percent(row.acceptance_rate), decimal(row.clicks_per_defect, 1)].map((text) => element("td", {}, text)),
    ),
  );
  if (!body.length) body.push(element("tr", {}, element("td", { colspan: "5", class: "muted" }, "No trained model has made settled suggestions yet.")));
  return element("table", { class: "numbers", id: "assist-models" }, element("thead", {}, head), element("tbody", {}, ...body));
}

function statisticsShow(statistics: AssistStatistics): void {
  const engines = statistics.engines.map((row) => ({ name: row.engine, row }));
  const classes = statistics.classes.map((row) => ({ name: row.defect_class, row }));
  const download = (file: "classes.csv" | "engines.csv" | "statistics.json", label: string): HTMLAnchorElement =>
    element("a", { href: api.assistStatisticsUrl(projectId, file), download: "" }, label);
  byId("assist-statistics").replaceChildren(
    element("h3", {}, "Per engine"),
    table("Engine", engines),
    element("h3", {}, "Per trained model (before and after each retrain)"),
    modelTable(statistics),
    element("h3", {}, "Per defect class"),
    table("Defect class", classes),
    element("div", { class: "assist-plots" }, outcomePlot(engines, "What became of the suggestions, per engine"), timePlot(statistics.time_per_image)),
    element("p", { class: "small" }, "Download: ", download("classes.csv", "classes.csv"), " · ", download("engines.csv", "engines.csv"), " · ", download("statistics.json", "statistics.json")),
  );
}

function statisticsLoad(): void {
  api.assistStatistics(projectId).then(statisticsShow, (error: unknown) => {
    byId("assist-statistics").textContent = `The assist statistics could not be loaded: ${errorMessage(error)}`;
  });
}

api.assistEngineList(projectId).then(
  (engines) => {
    const names = engines.engines.map((engine) => (engine.is_preferred ? `${engine.name} (used by the editor)` : engine.name));
    const prelabel = engines.prelabel_engine
      ? `pre-labels by ${engines.prelabel_engine}`
      : "no engine can pre-label: train a model (the classical engine and SAM need a prompt)";
    byId("assist-engines").textContent = `Assist engines: ${names.join(", ") || "none"}; ${prelabel}.`;
  },
  (error: unknown) => (byId("assist-engines").textContent = `Assist engines unknown: ${errorMessage(error)}`),
);

const button = document.getElementById("prelabel-button") as HTMLButtonElement | null;
button?.addEventListener("click", () => {
  const status = byId("prelabel-status");
  button.disabled = true;
  api.prelabelStart(projectId, { all_unlabelled: true }).then(
    (job) =>
      jobProgress(status, job.id, {
        onSucceeded: (done) => {
          const result = done.result as { suggestions?: number; images?: number };
          status.append(element("p", { class: "small" }, `${result.suggestions ?? 0} suggestions on ${result.images ?? 0} images, waiting for the inspectors.`));
          button.disabled = false;
          statisticsLoad();
        },
        onFailed: () => (button.disabled = false),
      }),
    (error: unknown) => {
      status.replaceChildren(element("p", { class: "form-status", role: "alert" }, errorMessage(error)));
      button.disabled = false;
    },
  );
});

statisticsLoad();
