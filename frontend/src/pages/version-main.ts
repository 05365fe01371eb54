/**
 * The dataset version pages (version_list.html, version_detail.html), one entry for both:
 * - the list follows each freeze under way with a progress bar; the freeze this browser just started
 *   (?freeze=id) opens its version once its job has made it, the others reload the list;
 * - a version's page requests exports, follows each build's job, then offers the file.
 */
import { type DatasetExport, type ExportRequestInput, type Job, api, errorMessage } from "../api/client";
import { jobProgress } from "./jobProgress";
import { datasetId } from "./pageData";

const MEBIBYTE = 1024 * 1024;

/** The page of a version; not an API path, so it is written here. */
function versionPageUrl(versionId: number): string {
  return `/versions/${versionId}/`;
}

function freezesFollow(): void {
  for (const row of document.querySelectorAll<HTMLTableRowElement>("tr.freeze")) {
    const cell = row.querySelector<HTMLElement>(".freeze-progress");
    if (!cell) continue;
    const isFollowed = row.dataset.isFollowed === "true";
    jobProgress(cell, datasetId(row, "jobId"), {
      onSucceeded: (job: Job) => {
        const versionId = job.result["version_id"];
        if (isFollowed && typeof versionId === "number") window.location.assign(versionPageUrl(versionId));
        else window.location.reload(); // the list gains the new version and loses the finished freeze
      },
    });
  }
}

function sizeText(bytes: number): string {
  return bytes < MEBIBYTE ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / MEBIBYTE).toFixed(1)} MB`;
}

interface ExportCell {
  readonly cell: HTMLElement;
  readonly start: HTMLButtonElement;
  readonly progress: HTMLElement;
  readonly state: HTMLElement;
  readonly download: HTMLAnchorElement;
}

function exportCellOf(cell: HTMLElement): ExportCell | null {
  const start = cell.querySelector<HTMLButtonElement>(".export-start");
  const progress = cell.querySelector<HTMLElement>(".export-job");
  const state = cell.querySelector<HTMLElement>(".export-state");
  const download = cell.querySelector<HTMLAnchorElement>(".export-download");
  return start && progress && state && download ? { cell, start, progress, state, download } : null;
}

/** Shows an export as it is: built (the file), being built (its job's progress), or failed (ask again). */
function exportShow(parts: ExportCell, exported: DatasetExport): void {
  const isBuilt = exported.status === "succeeded" && exported.download_url !== null;
  const isBuilding = exported.status === "queued" || exported.status === "running";
  parts.start.hidden = isBuilt || isBuilding;
  parts.download.hidden = !isBuilt;
  parts.progress.hidden = !isBuilding;
  parts.state.textContent = "";
  parts.state.removeAttribute("title");
  if (isBuilt) {
    parts.download.href = exported.download_url ?? "";
    parts.state.textContent = `${sizeText(exported.size_bytes ?? 0)}, sha256 ${(exported.sha256 ?? "").slice(0, 12)}…`;
    parts.state.title = exported.sha256 ?? "";
  } else if (isBuilding) {
    jobProgress(parts.progress, exported.job_id, {
      onSucceeded: () => void api.exportGet(exported.id).then((built) => exportShow(parts, built)),
      onFailed: (job: Job) => exportShow(parts, { ...exported, status: job.status, error: job.error }),
    });
  } else {
    parts.state.textContent = exported.status === "cancelled" ? "Cancelled." : `Failed: ${exported.error}`;
  }
}

function exportsFollow(section: HTMLElement): void {
  const versionId = datasetId(section, "versionId");
  for (const cell of section.querySelectorAll<HTMLElement>("td.export")) {
    const parts = exportCellOf(cell);
    if (!parts) continue;
    if (cell.dataset.exportId) {
      api.exportGet(Number(cell.dataset.exportId)).then(
        (exported) => exportShow(parts, exported),
        (error: unknown) => (parts.state.textContent = errorMessage(error)),
      );
    }
    parts.start.addEventListener("click", () => {
      parts.start.disabled = true;
      // The template writes the server's exporter names into data-format.
      const format = (cell.dataset.format ?? "") as ExportRequestInput["format"];
      const input: ExportRequestInput = { format, with_images: cell.dataset.withImages === "true" };
      api.exportRequest(versionId, input).then(
        (exported) => exportShow(parts, exported),
        (error: unknown) => (parts.state.textContent = `Refused: ${errorMessage(error)}`),
      ).finally(() => (parts.start.disabled = false));
    });
  }
}

freezesFollow();
const exportsSection = document.getElementById("exports");
if (exportsSection) exportsFollow(exportsSection);
