/**
 * Brush and eraser: paint a mask with a disk of `brushRadiusPx` ([ and ] change it), then trace the mask back
 * into polygons with holes (model/mask.ts, the server's own convention), so what is stored is exactly what was
 * painted. The brush adds to the one selected defect, or starts a new one; the eraser removes from the selected
 * defects, or from every visible defect it touches. A defect erased away is deleted. One stroke = one undo step.
 */
import { maskCreate, maskPaintSegment, maskReframe, maskToPolygons } from "../../model/mask";
import { polygonsBbox, rasterizeCrop } from "../../model/raster";
import type { Box, Geometry, Point } from "../../model/types";
import type { Defect } from "../../state/store";
import type { Tool, ToolDescriptor, ToolHost, ToolPointer } from "../tool";

/** Brush radii that [ and ] step through: fine steps where precision matters, coarse ones for big areas, and
 *  ] then [ comes back to where it was. */
export const BRUSH_RADII_PX = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200] as const;

/** The next radius up (delta > 0) or down from `radius`, staying within BRUSH_RADII_PX. */
export function brushRadiusStep(radius: number, delta: number): number {
  const radii = BRUSH_RADII_PX;
  if (delta > 0) return radii.find((candidate) => candidate > radius) ?? radii[radii.length - 1]!;
  return [...radii].reverse().find((candidate) => candidate < radius) ?? radii[0]!;
}

function strokeBox(points: readonly Point[], radius: number, width: number, height: number): Box {
  const xs = points.map((point) => point[0]);
  const ys = points.map((point) => point[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs) - radius));
  const y0 = Math.max(0, Math.floor(Math.min(...ys) - radius));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs) + radius));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys) + radius));
  return { x: x0, y: y0, width: Math.max(1, x1 - x0 + 1), height: Math.max(1, y1 - y0 + 1) };
}

function boxUnion(first: Box, second: Box): Box {
  const x = Math.min(first.x, second.x);
  const y = Math.min(first.y, second.y);
  return {
    x,
    y,
    width: Math.max(first.x + first.width, second.x + second.width) - x,
    height: Math.max(first.y + first.height, second.y + second.height) - y,
  };
}

function boxesIntersect(first: Box, second: Box): boolean {
  return first.x < second.x + second.width && second.x < first.x + first.width && first.y < second.y + second.height && second.y < first.y + first.height;
}

/** The stroke painted onto `geometry` (or onto nothing) over `box`: the new geometry, or null if empty. */
export function strokeApply(geometry: Geometry | null, points: readonly Point[], radius: number, value: 0 | 1, box: Box): Geometry | null {
  const mask = geometry && geometry.polygons.length ? maskReframe(rasterizeCrop(geometry.polygons), box) : maskCreate(box);
  for (let index = 0; index < points.length; index += 1) {
    maskPaintSegment(mask, points[Math.max(0, index - 1)]!, points[index]!, radius, value);
  }
  const polygons = maskToPolygons(mask);
  return polygons.length ? { polygons } : null;
}

export const brushTool: ToolDescriptor = {
  name: "brush",
  label: "Brush",
  key: "b",
  help: "Brush (adds to the selected defect, or draws a new one)",
  cursor: "none", // the brush outline is the cursor
  source: "manual",
  create: (host) => new BrushTool(host, brushTool, 1),
};

export const eraserTool: ToolDescriptor = {
  name: "eraser",
  label: "Eraser",
  key: "e",
  help: "Eraser (removes from the selected defects, or any it touches)",
  cursor: "none",
  source: "manual", // draws nothing
  create: (host) => new BrushTool(host, eraserTool, 0),
};

export class BrushTool implements Tool {
  private stroke: Point[] = [];
  private hover: Point | null = null;

  constructor(
    private readonly host: ToolHost,
    readonly descriptor: ToolDescriptor,
    private readonly value: 0 | 1,
  ) {}

  pointerDown(pointer: ToolPointer): void {
    this.stroke = [this.centre(pointer)];
    this.host.requestRender();
  }

  pointerMove(pointer: ToolPointer, isDragging: boolean): void {
    this.hover = pointer.image;
    if (isDragging && this.stroke.length) this.stroke.push(this.centre(pointer));
    this.host.requestRender();
  }

  pointerUp(): void {
    const points = this.stroke;
    this.stroke = [];
    if (points.length) this.commit(points);
    this.host.requestRender();
  }

  key(): boolean {
    return false;
  }

  cancel(): void {
    this.stroke = [];
    this.host.requestRender();
  }

  /** Stroke points in vertex coordinates (pixel centres at integers). */
  private centre(pointer: ToolPointer): Point {
    return [pointer.image[0] - 0.5, pointer.image[1] - 0.5];
  }

  private commit(points: Point[]): void {
    const { host } = this;
    const radius = host.brushRadiusPx;
    const box = strokeBox(points, radius, host.imageWidth, host.imageHeight);
    const { defects, selection } = host.store.snapshot;
    const selected = [...selection].map((key) => defects.get(key)).filter((defect): defect is Defect => !!defect);
    if (this.value === 1) {
      const target = selected.length === 1 ? selected[0]! : null;
      const region = target ? boxUnion(box, polygonsBbox(target.geometry.polygons)) : box;
      const geometry = strokeApply(target?.geometry ?? null, points, radius, 1, region);
      if (!geometry) return;
      if (target) host.store.edit((all) => void all.set(target.key, { ...target, geometry }));
      else host.defectCreate(geometry, { source: this.descriptor.source });
      return;
    }
    const targets = (selected.length ? selected : [...defects.values()].filter((defect) => host.isVisible(defect))).filter(
      (defect) => boxesIntersect(polygonsBbox(defect.geometry.polygons), box),
    );
    if (!targets.length) return;
    host.store.edit((all) => {
      for (const target of targets) {
        const geometry = strokeApply(target.geometry, points, radius, 0, polygonsBbox(target.geometry.polygons));
        if (geometry) all.set(target.key, { ...target, geometry });
        else all.delete(target.key);
      }
    });
  }

  draw(context: CanvasRenderingContext2D): void {
    const view = this.host.view;
    const radius = this.host.brushRadiusPx * view.scale;
    context.fillStyle = this.value ? "rgba(255,255,255,0.35)" : "rgba(0,0,0,0.45)";
    for (const [x, y] of this.stroke) {
      const [sx, sy] = view.vertexToScreen([x, y]);
      context.beginPath();
      context.arc(sx, sy, Math.max(1, radius), 0, 2 * Math.PI);
      context.fill();
    }
    if (this.hover) {
      const [sx, sy] = view.toScreen(this.hover[0], this.hover[1]);
      context.strokeStyle = this.value ? "#fff" : "#ff7070";
      context.lineWidth = 1.5;
      context.beginPath();
      context.arc(sx, sy, Math.max(2, radius), 0, 2 * Math.PI);
      context.stroke();
    }
  }
}
