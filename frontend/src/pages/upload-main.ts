/**
 * The upload page (upload.html): send the files with a progress bar, then follow the import until the worker is
 * done, listing each refused file with its reason.
 */
import { type ImportJob, NetworkError, api, errorMessage } from "../api/client";
import { byId, element } from "../editor/dom";
import { pollUntilDone } from "./poll";
import { datasetId } from "./pageData";

const IMPORT_POLL_INTERVAL_MS = 700;

const form = byId<HTMLFormElement>("upload-form");
const button = byId<HTMLButtonElement>("upload-button");
const bar = byId<HTMLProgressElement>("upload-progress");
const phase = byId("upload-phase");

function importIsRunning(job: ImportJob): boolean {
  return job.status === "queued" || job.status === "running";
}

function importPhase(job: ImportJob): string {
  if (job.status === "succeeded") return "Import finished.";
  if (job.status === "failed") return `Import failed: ${job.error ?? ""}`;
  return `Importing… (${job.processed_files ?? 0} of ${job.total_files ?? 0})`;
}

function importShow(job: ImportJob): void {
  const rejected = job.rejected ?? [];
  bar.value = Math.round((100 * (job.processed_files ?? 0)) / Math.max(job.total_files ?? 0, 1));
  phase.textContent = importPhase(job);
  byId("upload-summary").textContent =
    `${job.imported_count ?? 0} imported, ${job.duplicate_count ?? 0} duplicates, ` +
    `${job.annotation_count ?? 0} annotations from masks, ${rejected.length} rejected`;
  byId("upload-rejected").replaceChildren(...rejected.map((item) => element("li", {}, `${item.filename}: ${item.reason}`)));
}

/**
 * Follows the import through the upload API's own job until the worker is done. When imports become jobs of
 * the jobs API, this is the one place to change: jobProgress(byId("upload-status"), job.id, {...}).
 */
function importFollow(jobId: number): void {
  pollUntilDone({
    load: () => api.uploadGet(jobId),
    isDone: (job) => !importIsRunning(job),
    onUpdate: importShow,
    onError: (error) => (phase.textContent = errorMessage(error)),
    intervalMs: IMPORT_POLL_INTERVAL_MS,
  });
}

async function upload(): Promise<void> {
  const files = Array.from(byId<HTMLInputElement>("files").files ?? []);
  const withMasks = byId<HTMLInputElement>("with-masks").checked;
  byId("upload-status").hidden = false;
  button.disabled = true;
  try {
    const job = await api.uploadCreate(datasetId(form, "projectId"), { files, with_masks: withMasks }, (fraction) => {
      bar.value = Math.round(100 * fraction);
    });
    phase.textContent = "Uploaded. Waiting for the worker…";
    bar.value = 0;
    importFollow(job.id);
  } catch (error) {
    phase.textContent =
      error instanceof NetworkError ? "Network error: nothing was imported. Try again." : `Upload refused: ${errorMessage(error)}`;
    button.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void upload();
});
