/**
 * Select and edit: click a defect to select it (Shift adds or removes), drag on empty space to select by box.
 * With one defect selected: drag a vertex to move it, drag an edge to insert a vertex there, Alt+click a vertex
 * to delete it, drag inside to move the whole defect. Each drag is one undo step.
 */
import { clampTranslation, edgeNear, geometryBounds, geometryTranslate, vertexDelete, vertexInsert, vertexMove, vertexNear, type VertexAddress } from "../../model/polygon";
import type { Geometry, Point } from "../../model/types";
import type { Defect } from "../../state/store";
import { geometryExtent } from "../../editor/overlay";
import { HANDLE_TOLERANCE_PX, type Tool, type ToolDescriptor, type ToolHost, type ToolPointer } from "../tool";

type Drag =
  | { kind: "vertex"; key: string; original: Geometry; address: VertexAddress }
  | { kind: "move"; keys: string[]; originals: Map<string, Geometry>; from: Point }
  | { kind: "box"; from: Point; to: Point; additive: boolean };

export const selectTool: ToolDescriptor = {
  name: "select",
  label: "Select",
  key: "v",
  help: "Select / edit (drag vertices, drag an edge to insert, Alt+click deletes a vertex)",
  cursor: "default",
  source: "manual", // draws nothing
  hasVertexHandles: true,
  create: (host) => new SelectTool(host),
};

export class SelectTool implements Tool {
  readonly descriptor = selectTool;
  private drag: Drag | null = null;
  private preview: Map<string, Geometry> | null = null;

  constructor(private readonly host: ToolHost) {}

  /** Geometry being dragged, shown instead of the stored one until the drag ends. */
  previewOf(key: string): Geometry | null {
    return this.preview?.get(key) ?? null;
  }

  private single(): Defect | null {
    const { defects, selection } = this.host.store.snapshot;
    return selection.size === 1 ? defects.get([...selection][0]!) ?? null : null;
  }

  pointerDown(pointer: ToolPointer): void {
    const tolerance = HANDLE_TOLERANCE_PX / this.host.view.scale;
    const vertexPoint: Point = [pointer.image[0] - 0.5, pointer.image[1] - 0.5];
    const single = this.single();
    if (single) {
      const vertex = vertexNear(single.geometry, vertexPoint, tolerance);
      if (vertex && pointer.altKey) {
        const geometry = vertexDelete(single.geometry, vertex);
        if (geometry) this.host.store.edit((defects) => void defects.set(single.key, { ...single, geometry }));
        else this.host.notify("A ring keeps at least 3 vertices: delete the defect instead (Delete).");
        return;
      }
      if (vertex) {
        this.drag = { kind: "vertex", key: single.key, original: single.geometry, address: vertex };
        return;
      }
      const edge = edgeNear(single.geometry, vertexPoint, tolerance);
      if (edge) {
        const inserted = vertexInsert(single.geometry, edge, pointer.pixel);
        this.drag = { kind: "vertex", key: single.key, original: inserted, address: { ...edge, vertex: edge.vertex + 1 } };
        this.preview = new Map([[single.key, inserted]]);
        return;
      }
    }
    const hit = this.host.defectAt(pointer.image);
    const { selection } = this.host.store.snapshot;
    if (!hit && !pointer.shiftKey && this.host.suggestionSelectAt?.(pointer.image)) {
      this.host.store.select([]);
      return; // a pre-label suggestion: Enter keeps it, Delete deletes it
    }
    if (!hit) {
      this.drag = { kind: "box", from: pointer.image, to: pointer.image, additive: pointer.shiftKey };
      if (!pointer.shiftKey) this.host.store.select([]);
      return;
    }
    if (pointer.shiftKey) {
      const next = new Set(selection);
      if (next.has(hit.key)) next.delete(hit.key);
      else next.add(hit.key);
      this.host.store.select(next);
      return;
    }
    if (!selection.has(hit.key)) this.host.store.select([hit.key]);
    const keys = [...this.host.store.snapshot.selection];
    const defects = this.host.store.snapshot.defects;
    this.drag = { kind: "move", keys, originals: new Map(keys.map((key) => [key, defects.get(key)!.geometry])), from: pointer.pixel };
  }

  pointerMove(pointer: ToolPointer, isDragging: boolean): void {
    const drag = this.drag;
    if (!drag || !isDragging) return;
    if (drag.kind === "vertex") {
      this.preview = new Map([[drag.key, vertexMove(drag.original, drag.address, pointer.pixel)]]);
    } else if (drag.kind === "move") {
      const originals = [...drag.originals.values()];
      const bounds = originals.map(geometryBounds).reduce((a, b) => ({
        minX: Math.min(a.minX, b.minX),
        minY: Math.min(a.minY, b.minY),
        maxX: Math.max(a.maxX, b.maxX),
        maxY: Math.max(a.maxY, b.maxY),
      }));
      const [dx, dy] = clampTranslation(bounds, pointer.pixel[0] - drag.from[0], pointer.pixel[1] - drag.from[1], this.host.imageWidth, this.host.imageHeight);
      this.preview = new Map([...drag.originals].map(([key, geometry]) => [key, geometryTranslate(geometry, dx, dy)]));
    } else {
      drag.to = pointer.image;
    }
    this.host.requestRender();
  }

  pointerUp(): void {
    const drag = this.drag;
    const preview = this.preview;
    this.drag = null;
    this.preview = null;
    if (drag?.kind === "box") {
      const [x0, x1] = [Math.min(drag.from[0], drag.to[0]), Math.max(drag.from[0], drag.to[0])];
      const [y0, y1] = [Math.min(drag.from[1], drag.to[1]), Math.max(drag.from[1], drag.to[1])];
      if (x1 - x0 > 1 || y1 - y0 > 1) {
        const inside = [...this.host.store.snapshot.defects.values()].filter((defect) => {
          const [minX, minY, maxX, maxY] = geometryExtent(defect.geometry);
          return this.host.isVisible(defect) && minX >= x0 && maxX <= x1 && minY >= y0 && maxY <= y1;
        });
        const base = drag.additive ? [...this.host.store.snapshot.selection] : [];
        this.host.store.select([...base, ...inside.map((defect) => defect.key)]);
      }
    } else if (preview && preview.size) {
      this.host.store.edit((defects) => {
        for (const [key, geometry] of preview) {
          const defect = defects.get(key);
          if (defect) defects.set(key, { ...defect, geometry });
        }
      });
    }
    this.host.requestRender();
  }

  key(event: KeyboardEvent): boolean {
    if (event.key === "Escape" && this.drag) {
      this.cancel();
      return true;
    }
    return false;
  }

  cancel(): void {
    this.drag = null;
    this.preview = null;
    this.host.requestRender();
  }

  draw(context: CanvasRenderingContext2D): void {
    const drag = this.drag;
    if (drag?.kind !== "box") return;
    const [x0, y0] = this.host.view.toScreen(drag.from[0], drag.from[1]);
    const [x1, y1] = this.host.view.toScreen(drag.to[0], drag.to[1]);
    context.strokeStyle = "#ffd400";
    context.setLineDash([4, 3]);
    context.lineWidth = 1;
    context.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    context.setLineDash([]);
  }
}
