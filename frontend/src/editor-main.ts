/**
 * The editor page (/images/<id>/edit/): opens an image (one request: the editor bundle), replays any local draft,
 * and runs the page around the Editor: submit and next, defect-free, previous/next, comments, display controls,
 * the class precedents and "flag as edge case" (qa's API). Submit opens the next image in place, from a bundle
 * fetched in the background when this one opened. With ?final=1 (reviewers) it edits the image's final
 * annotations instead of the user's own work (editor/mode.ts).
 */
import { ApiError, type EditorBundle, type Precedent, api } from "./api/client";
import { draftLoad } from "./drafts/drafts";
import { assistTimings } from "./editor/assist";
import { Editor, frameProbe, frameTimings } from "./editor/Editor";
import { DISPLAY_DEFAULT, type DisplaySettings, displayApply, originalUnits } from "./editor/display";
import { byId, element } from "./editor/dom";
import { edgeCaseDialogShow } from "./editor/edgeCase";
import { type EditorMode, draftScopeOf } from "./editor/mode";
import { commentsRender } from "./editor/panels";
import { draftRecover } from "./editor/recovery";
import { saveNetworkTimings, saveTimings } from "./editor/sync";

performance.mark("defectlab:script-start"); // the page's timeline (bench/editor.py prints it): modules evaluated
const root = byId("editor-root");
const userId = Number(root.dataset.userId);
let editor: Editor | null = null;
let prefetched: Promise<EditorBundle> | null = null;
let prefetchedId: number | null = null;
let display: DisplaySettings = DISPLAY_DEFAULT;
const precedentsByProject = new Map<number, Promise<Precedent[]>>(); // fetched once per project and page

declare global {
  interface Window {
    defectlab: {
      editor: Editor | null;
      frameTimings: number[];
      saveTimings: number[];
      saveNetworkTimings: number[];
      assistTimings: typeof assistTimings;
      frameProbe: typeof frameProbe;
    };
  }
}
window.defectlab = { editor: null, frameTimings, saveTimings, saveNetworkTimings, assistTimings, frameProbe };

function bundleFetch(imageId: number): Promise<EditorBundle> {
  if (prefetchedId === imageId && prefetched) return prefetched;
  return api.editorGet(imageId);
}

async function open(imageId: number, pushHistory: boolean, mode: EditorMode = "work"): Promise<void> {
  root.dataset.state = "loading";
  const drafted = draftLoad(userId, imageId, draftScopeOf(mode)).catch(() => null); // beside the bundle, not after it
  const bundle = await bundleFetch(imageId);
  performance.mark("defectlab:bundle");
  // Final mode edits the final answer only: the annotators' own work stays out of the document.
  const annotations = mode === "final" ? bundle.annotations.filter((annotation) => annotation.is_final) : bundle.annotations;
  const draft = await drafted;
  const recovered = draftRecover(annotations, draft);
  performance.mark("defectlab:draft");
  editor?.destroy();
  if (pushHistory) history.pushState({ imageId, mode }, "", `/images/${imageId}/edit/${mode === "final" ? "?final=1" : ""}`);
  root.dataset.imageId = String(imageId);
  root.dataset.mode = mode;
  headerRender(bundle, mode);
  editor = new Editor(root, bundle, userId, recovered, { defectFreeToggle, edgeCaseFlag, submit, navigate }, mode);
  window.defectlab.editor = editor;
  performance.mark("defectlab:editor");
  commentsRender(byId("comment-list"), bundle.comments);
  displayControlsRender(bundle);
  root.dataset.state = "ready";
  // The image's tiles first: the rest of the page's requests wait for its first paint.
  const current = editor;
  void current.image.paintedOrTimeout.then(() => {
    if (editor !== current) return; // another image opened meanwhile
    precedentsLoad(current);
    // The first opening of one's own work starts its "time per image" (assist statistics); a failure costs nothing.
    if (mode === "work" && bundle.capabilities.can_label) api.imageVisit(imageId).catch(() => undefined);
    const next = bundle.queue.next_image_id;
    prefetchedId = next ?? null;
    prefetched = next ? api.editorGet(next) : null;
    prefetched?.catch(() => (prefetchedId = null));
  });
}

/** Shows the project's precedents under each class once they arrive; the editor works without them meanwhile. */
function precedentsLoad(current: Editor): void {
  const projectId = current.bundle.project.id;
  let precedents = precedentsByProject.get(projectId);
  if (!precedents) {
    precedents = api.precedentList(projectId);
    precedentsByProject.set(projectId, precedents);
    precedents.catch(() => precedentsByProject.delete(projectId)); // tried again with the next image
  }
  root.dataset.precedents = "loading";
  precedents.then(
    (list) => {
      if (editor !== current) return; // another image opened meanwhile: its own load shows them
      current.precedentsShow(list);
      root.dataset.precedents = "loaded";
    },
    (error: unknown) => {
      if (editor === current) current.notify(`Class precedents could not be loaded: ${error instanceof ApiError ? error.message : "no connection"}.`);
    },
  );
}

function headerRender(bundle: EditorBundle, mode: EditorMode): void {
  const { image, assignment, capabilities } = bundle;
  byId("image-name").textContent = image.original_filename;
  byId("image-size").textContent = `${image.width} × ${image.height} px${image.bit_depth > 8 ? `, ${image.bit_depth}-bit` : ""}`;
  byId("image-status").textContent = `${image.status ?? ""}${assignment ? ` · my assignment: ${assignment.status}` : ""}`;
  const defectFree = byId<HTMLButtonElement>("defect-free-button");
  defectFree.setAttribute("aria-pressed", String(!!image.is_defect_free));
  defectFree.textContent = image.is_defect_free ? "No defect ✓ (N)" : "No defect (N)";
  // Submitting and the defect-free judgement belong to one's own work, not to editing the final answer.
  const isOwnWork = capabilities.can_label && mode === "work";
  for (const id of ["defect-free-button", "submit-button"]) byId<HTMLButtonElement>(id).disabled = !isOwnWork;
  byId<HTMLButtonElement>("previous-button").disabled = !bundle.queue.previous_image_id;
  byId<HTMLButtonElement>("next-button").disabled = !bundle.queue.next_image_id;
  const banner = byId("banner");
  let message = assignment?.review_comment ? `Returned by the reviewer: ${assignment.review_comment}` : "";
  if (mode === "final") {
    message = "Editing this image's final annotations as a reviewer: only they are shown, what you draw is added to them, and every change is audited and recorded with the QA decision.";
  } else if (assignment?.status === "submitted" && !capabilities.can_label) {
    message = "You submitted this image: your work on it is read-only unless a reviewer returns it to you.";
  }
  banner.hidden = !message;
  banner.textContent = message;
}

function edgeCaseFlag(): void {
  if (!editor) return;
  const current = editor;
  edgeCaseDialogShow(byId<HTMLDialogElement>("edge-case-dialog"), async (note) => {
    try {
      await api.edgeCaseFlag(current.bundle.image.id, note);
      current.notify("Flagged as an edge case: a senior will decide it in consensus review.");
    } catch (error) {
      current.notify(error instanceof ApiError ? error.message : "Could not reach the server: the image is not flagged; try again.");
    }
  });
}

async function defectFreeToggle(): Promise<void> {
  if (!editor || editor.mode !== "work") return;
  const bundle = editor.bundle;
  const wanted = !bundle.image.is_defect_free;
  try {
    await editor.sync.flush();
    const result = await api.defectFreeSet(bundle.image.id, wanted);
    (bundle.image as { is_defect_free?: boolean }).is_defect_free = result.is_defect_free;
    (bundle.image as { status?: string }).status = result.status;
    headerRender(bundle, editor.mode);
    editor.notify(result.is_defect_free ? "Recorded: this image shows no defect." : "Withdrawn: the image is no longer marked defect-free.");
  } catch (error) {
    editor.notify(error instanceof ApiError ? error.message : "Could not reach the server; try again.");
  }
}

async function submit(): Promise<void> {
  if (!editor || editor.mode !== "work") return;
  const current = editor;
  await current.sync.flush();
  const pending = current.sync.pendingCount();
  if (pending > 0) {
    current.notify(`${pending} defect(s) are not saved yet (see the list): fix them or delete them, then submit.`);
    return;
  }
  try {
    await api.imageSubmit(current.bundle.image.id);
  } catch (error) {
    current.notify(error instanceof ApiError ? error.message : "Could not reach the server; try again.");
    return;
  }
  const next = current.bundle.queue.next_image_id ?? (await api.queueNext(current.bundle.image.id))?.image.id ?? null;
  if (next && next !== current.bundle.image.id) await open(next, true);
  else window.location.assign("/queue/?done=1");
}

function navigate(direction: "next" | "previous"): void {
  const target = direction === "next" ? editor?.bundle.queue.next_image_id : editor?.bundle.queue.previous_image_id;
  if (target) void open(target, true);
}

function displayControlsRender(bundle: EditorBundle): void {
  const metadata = (bundle.image.metadata ?? {}) as { display_window?: [number, number] };
  const window16 = bundle.image.bit_depth > 8 && Array.isArray(metadata.display_window) ? metadata.display_window : null;
  const container = byId("display-controls");
  const slider = (label: string, name: keyof DisplaySettings, min: number, max: number, step: number, readout: (value: number) => string): HTMLElement => {
    const input = element("input", { type: "range", min: String(min), max: String(max), step: String(step), value: String(display[name]), id: `display-${name}` });
    const value = element("span", { class: "readout" }, readout(display[name]));
    input.addEventListener("input", () => {
      display = { ...display, [name]: Number(input.value) };
      value.textContent = readout(display[name]);
      displayApply(byId<HTMLCanvasElement>("image-layer"), display);
    });
    return element("label", { class: "slider" }, `${label} `, input, value);
  };
  const opacity = element("input", { type: "range", min: "0", max: "1", step: "0.05", value: String(editor?.opacity ?? 1), id: "overlay-opacity" });
  opacity.addEventListener("input", () => {
    if (!editor) return;
    editor.opacity = Number(opacity.value);
    editor.requestRender(true);
  });
  const reset = element("button", { type: "button", class: "secondary small" }, "Reset display");
  reset.addEventListener("click", () => {
    display = DISPLAY_DEFAULT;
    displayApply(byId<HTMLCanvasElement>("image-layer"), display);
    displayControlsRender(bundle);
  });
  const classToggles = (editor?.taxonomy.classes ?? []).map((defectClass) => {
    const checkbox = element("input", { type: "checkbox", "data-class-id": String(defectClass.id) });
    checkbox.checked = !editor?.hiddenClassIds.has(defectClass.id);
    checkbox.addEventListener("change", () => editor?.classVisibilityToggle(defectClass.id));
    return element("label", { class: "check small" }, checkbox, element("span", { class: "swatch", style: `background:${defectClass.color}` }), defectClass.name);
  });
  container.replaceChildren(
    slider("Brightness", "brightness", -0.5, 0.5, 0.01, (value) => value.toFixed(2)),
    slider("Contrast", "contrast", 0.2, 4, 0.05, (value) => value.toFixed(2)),
    slider(window16 ? "Level (16-bit)" : "Level", "level", 0, 1, 0.005, (value) => originalUnits(value, window16)),
    slider(window16 ? "Window (16-bit)" : "Window", "window", 0.02, 1, 0.005, (value) => (window16 ? `${Math.round(value * (window16[1] - window16[0]))}` : `${Math.round(value * 255)}`)),
    reset,
    element("label", { class: "slider" }, "Overlay opacity ", opacity),
    element("div", { class: "class-toggles" }, element("span", { class: "small muted" }, "Show classes:"), ...classToggles),
  );
}

byId("comment-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId<HTMLTextAreaElement>("comment-text");
  const text = input.value.trim();
  if (!text || !editor) return;
  const imageId = editor.bundle.image.id;
  void api
    .commentCreate(imageId, text)
    .then(async () => {
      input.value = "";
      commentsRender(byId("comment-list"), await api.commentList(imageId));
    })
    .catch((error: unknown) => editor?.notify(error instanceof ApiError ? error.message : "Comment not sent: no connection."));
});
byId("submit-button").addEventListener("click", () => void submit());
byId("defect-free-button").addEventListener("click", () => void defectFreeToggle());
byId("previous-button").addEventListener("click", () => navigate("previous"));
byId("next-button").addEventListener("click", () => navigate("next"));
byId("help-button").addEventListener("click", () => editor?.helpShow());
byId("edge-case-button").addEventListener("click", () => edgeCaseFlag());
byId("undo-button").addEventListener("click", () => editor?.store.undo());
byId("redo-button").addEventListener("click", () => editor?.store.redo());
byId("fit-button").addEventListener("click", () => editor?.fit());
byId("one-to-one-button").addEventListener("click", () => editor?.oneToOne());
window.addEventListener("popstate", (event) => {
  const state = event.state as { imageId?: number; mode?: EditorMode } | null;
  if (state?.imageId) void open(state.imageId, false, state.mode ?? "work");
});

const initialMode: EditorMode = root.dataset.mode === "final" ? "final" : "work"; // the page checked the role
history.replaceState({ imageId: Number(root.dataset.imageId), mode: initialMode }, "");
void open(Number(root.dataset.imageId), false, initialMode).catch((error: unknown) => {
  root.dataset.state = "error";
  byId("notice").hidden = false;
  byId("notice").textContent = error instanceof ApiError ? error.message : "The image could not be opened. Check the connection and reload.";
});
