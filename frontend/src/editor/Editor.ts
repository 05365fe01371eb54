/**
 * The editor: the only public class. It owns the view, the document store, autosave and the tools, and emits
 * DOM events on its root: "annotation:saved", "annotation:conflict". The page shell (editor-main.ts) opens
 * images, submits and moves through the queue.
 */
import type { AnnotationOutput, EditorBundle, Precedent } from "../api/client";
import { pointInGeometry } from "../model/polygon";
import type { Geometry, Point } from "../model/types";
import { type Defect, Store, defectContentHash, defectDrawn, newDefectKey } from "../state/store";
import { brushRadiusStep } from "../tools/brush/brushTool";
import { TOOL_REGISTRY, toolsCreate } from "../tools/registry";
import type { DefectOrigin, Tool, ToolDescriptor, ToolHost } from "../tools/tool";
import type { RefinedPrelabel } from "../tools/assist/assist";
import { AssistConnection, assistImageOf } from "./assist";
import { EDITOR_COMMANDS } from "./commands";
import { conflictShow } from "./conflict";
import { byId } from "./dom";
import { ImageLayer } from "./imageLayer";
import { inputBind } from "./input";
import { helpRows, helpShow } from "./keyboard";
import { Minimap } from "./minimap";
import type { EditorMode } from "./mode";
import { Overlay, type OverlayStyle, paintDefect, vertexHandlesDraw } from "./overlay";
import { classPickerRender, defectListRender, severityPickerRender } from "./panels";
import { type Recovered, basisFromServer, defectFromServer } from "./recovery";
import { SuggestionLayer } from "./suggestions";
import { Sync, type SyncState } from "./sync";
import { Taxonomy } from "./taxonomy";
import { brushSizeText, toolbarButtons, toolbarRender } from "./toolbar";
import { Viewport } from "./viewport";

const MINIMAP_MIN_PIXELS = 4_000_000; // images at least this large get a minimap

export interface EditorShell {
  defectFreeToggle(): void;
  edgeCaseFlag(): void;
  submit(): void;
  navigate(direction: "next" | "previous"): void;
}

/** Frame work times in ms, read by bench/editor.py (pan benchmark). */
export const frameTimings: number[] = [];
/** Set by bench/editor.py: read a pixel back after each frame, so the timing includes rasterising the canvases
 *  (Chromium otherwise defers that past the end of the script). */
export const frameProbe = { isRasterForced: false };

export class Editor implements ToolHost {
  readonly store: Store;
  readonly view: Viewport;
  readonly taxonomy: Taxonomy;
  readonly sync: Sync;
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly image: ImageLayer;
  currentClassId: number | null;
  currentSeverityId: number | null = null;
  brushRadiusPx = 6;
  opacity = 1;
  readonly hiddenClassIds = new Set<number>();
  private isOverlayHidden = false;
  readonly toolRegistry: readonly ToolDescriptor[] = TOOL_REGISTRY;
  readonly tools: ReadonlyMap<string, Tool>;
  tool: Tool;
  /** The server's assist engines, for the assist tools; absent where the user may not draw. */
  readonly assist?: AssistConnection;
  /** Pre-label suggestions waiting for this user (their own work only). */
  readonly suggestions: SuggestionLayer | null = null;
  private readonly overlay = new Overlay();
  private readonly minimap: Minimap | null;
  private readonly imageContext: CanvasRenderingContext2D;
  private readonly overlayContext: CanvasRenderingContext2D;
  private frame = 0;
  private readonly pixelRatio = window.devicePixelRatio || 1;
  private readonly cleanup: Array<() => void> = [];
  private readonly openPrecedents = new Set<number>(); // classes whose precedents the user unfolded

  constructor(
    private readonly root: HTMLElement,
    readonly bundle: EditorBundle,
    userId: number,
    recovered: Recovered,
    private readonly shell: EditorShell,
    readonly mode: EditorMode = "work",
  ) {
    this.imageWidth = bundle.image.width;
    this.imageHeight = bundle.image.height;
    this.taxonomy = new Taxonomy(bundle.defect_classes, bundle.project.px_per_mm ?? null);
    this.currentClassId = this.taxonomy.active[0]?.id ?? null;
    this.store = new Store(recovered.defects);
    this.view = new Viewport(this.imageWidth, this.imageHeight);
    this.image = new ImageLayer(this.imageWidth, this.imageHeight, bundle.image.urls.display!, bundle.image.pyramid, () => this.requestRender());
    this.imageContext = byId<HTMLCanvasElement>("image-layer", root).getContext("2d", { alpha: false })!;
    this.overlayContext = byId<HTMLCanvasElement>("overlay-layer", root).getContext("2d")!;
    const minimapCanvas = byId<HTMLCanvasElement>("minimap", root);
    const isLarge = !!bundle.image.pyramid || this.imageWidth * this.imageHeight >= MINIMAP_MIN_PIXELS;
    minimapCanvas.hidden = !isLarge;
    this.minimap = isLarge ? new Minimap(minimapCanvas, this.view, this.image, () => this.requestRender(true)) : null;
    this.sync = new Sync(bundle.image.id, userId, this.store, recovered.basis, {
      state: (state, detail) => this.syncStateShow(state, detail),
      conflict: (conflict) => {
        this.root.dispatchEvent(new CustomEvent("annotation:conflict", { detail: conflict }));
        conflictShow(byId<HTMLDialogElement>("conflict-dialog", root), conflict, this.taxonomy, this.image, (choice) => this.sync.resolve(conflict.key, choice));
        this.panelsRender();
      },
      refused: () => {
        this.overlay.invalidate();
        this.panelsRenderSoon();
        this.requestRender();
      },
    }, mode);
    if (bundle.capabilities.can_label) {
      const status = (message: string) => (byId("assist-status", root).textContent = message);
      // Engines and suggestions are asked for after the image's first paint, not in front of its tiles.
      const painted = this.image.paintedOrTimeout;
      this.assist = new AssistConnection(bundle.project.id, bundle.image.id, status, undefined, assistImageOf(bundle, this.taxonomy), undefined, painted);
      if (mode === "work") this.suggestions = SuggestionLayer.open(bundle.image.id, this, painted);
    }
    this.tools = toolsCreate(this, this.toolRegistry);
    this.tool = this.tools.get(this.toolRegistry[0]!.name)!;
    let previous = this.store.snapshot.defects;
    this.store.subscribe((snapshot, cause) => {
      // Edits of the selected defects (drawn live) leave the cached picture of all the others valid.
      if (cause === "edit") this.overlay.invalidateChanged(previous, snapshot.defects);
      else if (cause !== "selection") this.overlay.invalidate();
      previous = snapshot.defects;
      this.panelsRenderSoon();
      this.requestRender();
      if (cause !== "selection") this.root.dispatchEvent(new CustomEvent("annotation:changed"));
    });
    this.toolbarRender();
    this.cleanup.push(inputBind(this, shell));
    this.resize();
    this.view.fit();
    this.panelsRender();
    this.requestRender();
    for (const conflict of recovered.conflicts) {
      this.sync.conflicts.set(conflict.key, conflict);
      conflictShow(byId<HTMLDialogElement>("conflict-dialog", root), conflict, this.taxonomy, this.image, (choice) => this.sync.resolve(conflict.key, choice));
    }
    if (recovered.replayed > 0) this.notify(`Recovered ${recovered.replayed} unsaved change(s) from this computer's draft; saving them now.`);
    if (recovered.replayed > 0 || this.sync.pendingCount() > 0) this.sync.schedule(0);
  }

  destroy(): void {
    window.cancelAnimationFrame(this.frame);
    window.clearTimeout(this.panelsTimer);
    this.sync.destroy();
    this.image.destroy();
    for (const undo of this.cleanup) undo();
  }

  // ---- ToolHost ---------------------------------------------------------------------------------------------

  defectAt(point: Point): Defect | null {
    const vertex: Point = [point[0] - 0.5, point[1] - 0.5];
    const hits = [...this.store.snapshot.defects.values()].filter((defect) => this.isVisible(defect) && pointInGeometry(vertex, defect.geometry));
    if (!hits.length) return null;
    // The smallest one wins: a pore drawn inside a stain stays clickable.
    return hits.reduce((best, defect) => (this.taxonomy.check(defect).measurement.areaPx < this.taxonomy.check(best).measurement.areaPx ? defect : best));
  }

  defectCreate(geometry: Geometry, origin: DefectOrigin): void {
    if (this.currentClassId === null) {
      this.notify("This project has no defect classes: ask an admin to add some.");
      return;
    }
    const defect = defectDrawn({ defectClassId: this.currentClassId, severityId: this.currentSeverityId, geometry }, origin);
    this.store.edit((defects) => {
      defects.set(defect.key, defect);
      return new Set([defect.key]);
    });
    const violations = this.taxonomy.check(defect).violations;
    if (violations.length) this.notify(`Too small for ${this.taxonomy.get(defect.defectClassId)?.name}: ${violations.join("; ")}`);
  }

  colorOf(defectClassId: number): string {
    return this.taxonomy.colorOf(defectClassId);
  }

  prelabelAt(point: Point): RefinedPrelabel | null {
    const hit = this.suggestions?.at(point);
    return hit ? { suggestionId: hit.id, geometry: hit.geometry } : null;
  }

  prelabelReplaced(suggestionId: number): void {
    void this.suggestions?.reject(suggestionId);
  }

  suggestionSelectAt(point: Point): boolean {
    return this.suggestions?.selectAt(point) ?? false;
  }

  /** An annotation the server saved (an accepted suggestion) joins the document as saved, selected; one undo step. */
  defectAdopt(annotation: AnnotationOutput): void {
    const defect = defectFromServer(annotation);
    this.sync.basis.set(defect.key, basisFromServer(annotation)); // first: autosave sees nothing to send
    this.store.edit((defects) => {
      defects.set(defect.key, defect);
      return new Set([defect.key]);
    });
  }

  /** Enter: keep the selected suggestion; with none selected, select the best one waiting. */
  suggestionAccept(): void {
    void this.suggestions?.enter();
  }

  /** The suggestion list changed (SuggestionHost). */
  changed(): void {
    this.panelsRenderSoon();
  }

  isVisible(defect: Defect): boolean {
    return !this.isOverlayHidden && !this.hiddenClassIds.has(defect.defectClassId);
  }

  notify(message: string): void {
    const notice = byId("notice", this.root);
    notice.textContent = message;
    notice.hidden = false;
    window.clearTimeout(Number(notice.dataset.timer));
    notice.dataset.timer = String(window.setTimeout(() => (notice.hidden = true), 6000));
  }

  // ---- rendering ------------------------------------------------------------------------------------------

  /** Schedules one frame; `isDirty` also repaints the cached defects. */
  requestRender(isDirty = false): void {
    if (isDirty) this.overlay.invalidate();
    if (!this.frame) this.frame = window.requestAnimationFrame(() => this.render());
  }

  private style(): OverlayStyle {
    const flagged = new Set<string>(this.sync.refusals.keys());
    for (const defect of this.store.snapshot.defects.values()) {
      if (this.taxonomy.check(defect).violations.length) flagged.add(defect.key);
    }
    return { opacity: this.isOverlayHidden ? 0 : this.opacity, hiddenClassIds: this.hiddenClassIds, colorOf: (id) => this.colorOf(id), flagged };
  }

  private render(): void {
    this.frame = 0;
    const started = performance.now();
    const { view, pixelRatio } = this;
    const imageContext = this.imageContext;
    imageContext.setTransform(1, 0, 0, 1, 0, 0);
    imageContext.fillStyle = "#1b1f24";
    imageContext.fillRect(0, 0, imageContext.canvas.width, imageContext.canvas.height);
    imageContext.save();
    imageContext.scale(pixelRatio, pixelRatio);
    this.image.draw(imageContext, view);
    imageContext.restore();
    const context = this.overlayContext;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, context.canvas.width, context.canvas.height);
    const { defects, selection } = this.store.snapshot;
    const live = new Set(selection);
    const style = this.style();
    this.overlay.draw(context, view, defects, live, style, pixelRatio);
    const scale = view.scale * pixelRatio;
    context.setTransform(scale, 0, 0, scale, -view.offsetX * scale, -view.offsetY * scale);
    for (const key of live) {
      const defect = defects.get(key);
      if (!defect || !this.isVisible(defect)) continue;
      const geometry = this.tool.previewOf?.(key) ?? defect.geometry;
      paintDefect(context, { ...defect, geometry }, view.scale, { ...style, opacity: Math.max(style.opacity, 0.6) });
    }
    context.setTransform(pixelRatio, 0, 0, pixelRatio, 0, 0);
    this.handlesDraw(context, live);
    this.suggestions?.draw(context, view, (id) => this.colorOf(id));
    this.tool.draw(context);
    this.minimap?.draw();
    if (frameProbe.isRasterForced) {
      imageContext.getImageData(0, 0, 1, 1);
      context.getImageData(0, 0, 1, 1);
    }
    frameTimings.push(performance.now() - started);
    if (frameTimings.length > 5000) frameTimings.splice(0, 1000);
  }

  private handlesDraw(context: CanvasRenderingContext2D, selection: ReadonlySet<string>): void {
    if (selection.size !== 1 || !this.tool.descriptor.hasVertexHandles) return;
    const key = [...selection][0]!;
    const defect = this.store.snapshot.defects.get(key);
    if (!defect || !this.isVisible(defect)) return;
    vertexHandlesDraw(context, this.view, this.tool.previewOf?.(key) ?? defect.geometry);
  }

  resize(): void {
    const host = byId("viewer", this.root);
    const width = host.clientWidth;
    const height = host.clientHeight;
    this.view.resize(width, height);
    for (const canvas of [this.imageContext.canvas, this.overlayContext.canvas]) {
      canvas.width = Math.round(width * this.pixelRatio);
      canvas.height = Math.round(height * this.pixelRatio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    this.requestRender(true);
  }

  // ---- commands (keyboard, buttons) ----------------------------------------------------------------------------

  toolSet(name: string): void {
    const tool = this.tools.get(name);
    if (!tool) throw new Error(`no tool named "${name}" is registered`);
    this.tool.cancel();
    this.tool = tool;
    byId("overlay-layer", this.root).style.cursor = tool.descriptor.cursor;
    this.root.dataset.tool = name;
    this.toolbarRender();
    this.requestRender();
  }

  zoomBy(factor: number, screenX = this.view.width / 2, screenY = this.view.height / 2): void {
    this.view.zoomAt(factor, screenX, screenY);
    this.requestRender();
  }

  fit(): void {
    this.view.fit();
    this.requestRender();
  }

  oneToOne(): void {
    this.view.oneToOne();
    this.requestRender();
  }

  /** Keys 1-9 and the class picker: the class for new defects, and for the selected ones. */
  classPick(defectClassId: number): void {
    if (this.currentClassId !== defectClassId) this.currentSeverityId = null;
    this.currentClassId = defectClassId;
    const selected = this.selected();
    if (selected.some((defect) => defect.defectClassId !== defectClassId)) {
      this.store.edit((defects) => {
        for (const defect of selected) {
          if (defect.defectClassId !== defectClassId) defects.set(defect.key, { ...defect, defectClassId, severityId: null });
        }
      });
    }
    this.panelsRender();
  }

  /** Shift+1-9 and the severity picker: the severity for new defects, and for the selected ones. */
  severityPick(severityId: number | null): void {
    this.currentSeverityId = severityId;
    const selected = this.selected().filter((defect) => defect.defectClassId === this.currentClassId && defect.severityId !== severityId);
    if (selected.length) {
      this.store.edit((defects) => {
        for (const defect of selected) defects.set(defect.key, { ...defect, severityId });
      });
    }
    this.panelsRender();
  }

  selected(): Defect[] {
    const { defects, selection } = this.store.snapshot;
    return [...selection].map((key) => defects.get(key)).filter((defect): defect is Defect => !!defect);
  }

  selectionDelete(): void {
    const keys = [...this.store.snapshot.selection];
    if (keys.length) this.store.edit((defects) => void keys.forEach((key) => defects.delete(key)));
    else if (this.suggestions?.selected) void this.suggestions.reject();
  }

  selectionDuplicate(): void {
    const copies = this.selected().map((defect) => ({ ...defect, key: newDefectKey() }));
    if (!copies.length) return;
    this.store.edit((defects) => {
      for (const copy of copies) defects.set(copy.key, copy);
      return new Set(copies.map((copy) => copy.key));
    });
  }

  overlayToggle(): void {
    this.isOverlayHidden = !this.isOverlayHidden;
    this.requestRender(true);
  }

  classVisibilityToggle(defectClassId: number): void {
    if (this.hiddenClassIds.has(defectClassId)) this.hiddenClassIds.delete(defectClassId);
    else this.hiddenClassIds.add(defectClassId);
    this.requestRender(true);
  }

  helpShow(): void {
    helpShow(byId<HTMLDialogElement>("help-dialog", this.root), helpRows(this.toolRegistry, EDITOR_COMMANDS));
  }

  /** Consensus decisions of the project's classes, shown under each class's description. */
  precedentsShow(precedents: readonly Precedent[]): void {
    this.taxonomy.precedentsSet(precedents);
    this.panelsRender();
  }

  // ---- panels --------------------------------------------------------------------------------------------------

  private toolbarRender(): void {
    const buttons = toolbarButtons(this.toolRegistry, this.tool.descriptor.name);
    toolbarRender(byId("toolbar", this.root), buttons, this.brushRadiusPx, (name) => this.toolSet(name));
  }

  brushResize(delta: number): void {
    this.brushRadiusPx = brushRadiusStep(this.brushRadiusPx, delta);
    byId("brush-size", this.root).textContent = brushSizeText(this.brushRadiusPx);
    this.requestRender();
  }

  private panelsTimer = 0;

  /** Coalesces panel updates: a burst of edits and save answers rebuilds the lists once. */
  panelsRenderSoon(): void {
    if (!this.panelsTimer) this.panelsTimer = window.setTimeout(() => {
      this.panelsTimer = 0;
      this.panelsRender();
    }, 60);
  }

  panelsRender(): void {
    classPickerRender(byId("class-list", this.root), this.taxonomy, this.currentClassId, (id) => this.classPick(id), this.openPrecedents);
    const current = this.currentClassId === null ? undefined : this.taxonomy.get(this.currentClassId);
    severityPickerRender(byId("severity-list", this.root), current, this.currentSeverityId, (id) => this.severityPick(id));
    this.suggestions?.render(byId("suggestion-list", this.root), (id) => this.taxonomy.get(id)?.name ?? "?");
    defectListRender(
      byId("defect-list", this.root),
      this.store.snapshot,
      this.taxonomy,
      (defect) => ({
        refusal: this.sync.refusals.get(defect.key),
        isConflicted: this.sync.conflicts.has(defect.key),
        isUnsaved: this.sync.basis.get(defect.key)?.hash !== defectContentHash(defect),
      }),
      (key, additive) => {
        const next = new Set(additive ? this.store.snapshot.selection : []);
        if (next.has(key)) next.delete(key);
        else next.add(key);
        this.store.select(next);
      },
    );
  }

  private syncStateShow(state: SyncState, detail: string): void {
    const status = byId("save-status", this.root);
    status.dataset.state = state;
    status.textContent = detail;
    if (state === "saved") this.root.dispatchEvent(new CustomEvent("annotation:saved"));
    this.panelsRenderSoon();
  }
}
