/**
 * Pre-label suggestions in the editor: the engine's defects on this image that the inspector has not decided yet.
 * They are not defects: they are drawn dashed with a "model" badge, listed apart, and never saved by autosave.
 * Select one (click it with the select tool, or in the list); Enter keeps it (the server makes it the inspector's
 * own annotation, which joins the document as a saved defect), Delete deletes it.
 */
import type { AnnotationOutput, Suggestion } from "../api/client";
import { api, errorMessage } from "../api/client";
import { pointInGeometry } from "../model/polygon";
import type { Point } from "../model/types";
import { outlineDraw } from "../tools/assist/assist";
import { element } from "./dom";
import type { Viewport } from "./viewport";

/** What the layer needs of the server; `api` in the editor, a fake in the tests. */
export interface SuggestionServer {
  list(imageId: number): Promise<readonly Suggestion[]>;
  accept(suggestionId: number, defectClassId: number | null, severityId: number | null): Promise<AnnotationOutput>;
  reject(suggestionId: number): Promise<unknown>;
}

export const apiSuggestionServer: SuggestionServer = {
  list: (imageId) => api.suggestionList(imageId),
  accept: (suggestionId, defectClassId, severityId) => api.suggestionAccept(suggestionId, defectClassId, severityId),
  reject: (suggestionId) => api.suggestionReject(suggestionId),
};

/** What the layer needs of the editor. */
export interface SuggestionHost {
  /** Adds an annotation the server has saved (an accepted suggestion) to the document, selected. */
  defectAdopt(annotation: AnnotationOutput): void;
  notify(message: string): void;
  requestRender(): void;
  /** The list changed: redraw it. */
  changed(): void;
}

export class SuggestionLayer {
  items: readonly Suggestion[] = [];
  selectedId: number | null = null;
  private isBusy = false;

  constructor(
    private readonly imageId: number,
    private readonly host: SuggestionHost,
    private readonly server: SuggestionServer = apiSuggestionServer,
  ) {}

  /** A layer for the image, its suggestions loading once `after` settles (the image's first paint). */
  static open(imageId: number, host: SuggestionHost, after: Promise<void> = Promise.resolve()): SuggestionLayer {
    const layer = new SuggestionLayer(imageId, host);
    void after.then(() => layer.load());
    return layer;
  }

  async load(): Promise<void> {
    try {
      this.items = await this.server.list(this.imageId);
    } catch (error) {
      this.host.notify(`Suggestions could not be loaded: ${errorMessage(error)}.`);
    }
    this.host.changed();
    this.host.requestRender();
  }

  get selected(): Suggestion | null {
    return this.items.find((item) => item.id === this.selectedId) ?? null;
  }

  /** The topmost (best scored first, so the last drawn) suggestion under an image-space point. */
  at(point: Point): Suggestion | null {
    const vertex: Point = [point[0] - 0.5, point[1] - 0.5];
    return this.items.find((item) => pointInGeometry(vertex, item.geometry)) ?? null;
  }

  /** Selects the suggestion under the point, or none; true when there was one. */
  selectAt(point: Point): boolean {
    const hit = this.at(point);
    if (hit || this.selectedId !== null) this.select(hit?.id ?? null);
    return hit !== null;
  }

  /** Enter: keeps the selected suggestion; with none selected, selects the best one waiting. */
  async enter(): Promise<void> {
    if (this.selected) await this.accept();
    else if (this.items.length) this.select(this.items[0]!.id);
  }

  select(suggestionId: number | null): void {
    this.selectedId = suggestionId;
    this.host.changed();
    this.host.requestRender();
  }

  /** Keeps the selected suggestion (its class, unless `defectClassId`): it becomes the user's annotation. */
  async accept(defectClassId: number | null = null, severityId: number | null = null): Promise<boolean> {
    const suggestion = this.selected;
    if (!suggestion || this.isBusy) return false;
    this.isBusy = true;
    try {
      const annotation = await this.server.accept(suggestion.id, defectClassId, severityId);
      this.remove(suggestion.id);
      this.host.defectAdopt(annotation);
      return true;
    } catch (error) {
      this.host.notify(`Suggestion not kept: ${errorMessage(error)}`);
      return false;
    } finally {
      this.isBusy = false;
    }
  }

  /**
   * Deletes the selected suggestion (or `suggestionId`: a pre-label the click tool refined into a kept defect) from
   * this user's view; the server keeps the decision for the statistics.
   */
  async reject(suggestionId: number | null = this.selectedId): Promise<boolean> {
    const suggestion = this.items.find((item) => item.id === suggestionId) ?? null;
    if (!suggestion || this.isBusy) return false;
    this.isBusy = true;
    try {
      await this.server.reject(suggestion.id);
      this.remove(suggestion.id);
      return true;
    } catch (error) {
      this.host.notify(`Suggestion not deleted: ${errorMessage(error)}`);
      return false;
    } finally {
      this.isBusy = false;
    }
  }

  private remove(suggestionId: number): void {
    this.items = this.items.filter((item) => item.id !== suggestionId);
    this.selectedId = null;
    this.host.changed();
    this.host.requestRender();
  }

  /** Each suggestion dashed in its class colour, the selected one thicker and labelled. */
  draw(context: CanvasRenderingContext2D, view: Viewport, colorOf: (defectClassId: number) => string): void {
    const toScreen = (point: Point): Point => view.vertexToScreen(point);
    for (const item of [...this.items].reverse()) {
      const isSelected = item.id === this.selectedId;
      context.save();
      context.globalAlpha = isSelected ? 1 : 0.8;
      outlineDraw(context, item.geometry, toScreen, isSelected ? "#ffffff" : colorOf(item.defect_class_id));
      const [x, y] = toScreen(item.geometry.polygons[0]!.exterior[0]!);
      context.font = "11px sans-serif";
      context.fillStyle = isSelected ? "#ffffff" : colorOf(item.defect_class_id);
      context.fillText(`model ${item.score.toFixed(2)}${isSelected ? " · Enter keeps, Delete deletes" : ""}`, x + 4, y - 4);
      context.restore();
    }
  }

  /** The side panel's list: one row a suggestion, with Keep and Delete. */
  render(container: HTMLElement, classNameOf: (defectClassId: number) => string): void {
    const section = container.closest("section");
    if (section) section.hidden = this.items.length === 0;
    const rows = this.items.map((item) => {
      const keep = element("button", { type: "button", class: "small suggestion-keep" }, "Keep");
      const remove = element("button", { type: "button", class: "small secondary suggestion-delete" }, "Delete");
      keep.addEventListener("click", () => {
        this.select(item.id);
        void this.accept();
      });
      remove.addEventListener("click", () => {
        this.select(item.id);
        void this.reject();
      });
      const row = element(
        "li",
        { class: `suggestion-row${item.id === this.selectedId ? " selected" : ""}`, "data-suggestion-id": String(item.id) },
        element("span", { class: "badge" }, "model"),
        ` ${classNameOf(item.defect_class_id)} · score ${item.score.toFixed(2)} · ${item.engine} `,
        keep,
        remove,
      );
      row.addEventListener("click", (event) => {
        if (event.target === row) this.select(item.id);
      });
      return row;
    });
    container.replaceChildren(element("ol", { class: "suggestions" }, ...rows));
  }
}
