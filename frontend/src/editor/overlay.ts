/**
 * Painting the defects. Panning must stay within a frame budget with thousands of polygons (ADR 0003), so the
 * defects that are not being edited are painted once into an off-screen bitmap that covers the view plus a
 * margin at the current zoom; a pan frame only copies that bitmap. It is repainted when the zoom changes, when
 * the view leaves the margin, or when the defects or their styling change. Selected defects are drawn live on
 * top every frame, with their handles.
 */
import type { Geometry } from "../model/types";
import type { Defect, Defects } from "../state/store";
import type { Viewport } from "./viewport";

const CACHE_MARGIN_PX = 384; // screen px painted beyond each edge of the view, so short pans need no repaint
const FILL_ALPHA = 0.3;
const OUTLINE_PX = 1.5;
const FLAG_COLOR = "#ff2d2d";

export interface OverlayStyle {
  readonly opacity: number;
  readonly hiddenClassIds: ReadonlySet<number>;
  readonly colorOf: (defectClassId: number) => string;
  /** Keys of defects to outline as a problem (too small, refused by the server). */
  readonly flagged: ReadonlySet<string>;
}

const paths = new WeakMap<Geometry, Path2D>();
const bounds = new WeakMap<Geometry, [number, number, number, number]>();

/** The geometry as a path in image space (vertex (x, y) at pixel centre x + 0.5, y + 0.5). */
export function geometryPath(geometry: Geometry): Path2D {
  let path = paths.get(geometry);
  if (!path) {
    path = new Path2D();
    for (const polygon of geometry.polygons) {
      for (const ring of [polygon.exterior, ...polygon.holes]) {
        ring.forEach(([x, y], index) => (index === 0 ? path!.moveTo(x + 0.5, y + 0.5) : path!.lineTo(x + 0.5, y + 0.5)));
        path.closePath();
      }
    }
    paths.set(geometry, path);
  }
  return path;
}

export function geometryExtent(geometry: Geometry): [number, number, number, number] {
  let extent = bounds.get(geometry);
  if (!extent) {
    extent = [Infinity, Infinity, -Infinity, -Infinity];
    for (const polygon of geometry.polygons) {
      for (const [x, y] of polygon.exterior) {
        extent[0] = Math.min(extent[0], x);
        extent[1] = Math.min(extent[1], y);
        extent[2] = Math.max(extent[2], x + 1);
        extent[3] = Math.max(extent[3], y + 1);
      }
    }
    bounds.set(geometry, extent);
  }
  return extent;
}

/** Paints one defect in image space on a context already transformed to the view. */
export function paintDefect(context: CanvasRenderingContext2D, defect: Defect, scale: number, style: OverlayStyle): void {
  const color = style.colorOf(defect.defectClassId);
  const [minX, minY, maxX, maxY] = geometryExtent(defect.geometry);
  const isFlagged = style.flagged.has(defect.key);
  if ((maxX - minX) * scale < 3 && (maxY - minY) * scale < 3) {
    // Smaller than a few screen pixels: a dot says "a defect is here" at a fraction of the cost.
    context.fillStyle = isFlagged ? FLAG_COLOR : color;
    context.globalAlpha = style.opacity;
    context.fillRect(minX, minY, Math.max(maxX - minX, 3 / scale), Math.max(maxY - minY, 3 / scale));
    return;
  }
  const path = geometryPath(defect.geometry);
  context.globalAlpha = style.opacity * FILL_ALPHA;
  context.fillStyle = color;
  context.fill(path, "evenodd");
  context.globalAlpha = style.opacity;
  context.lineWidth = (isFlagged ? 2 * OUTLINE_PX : OUTLINE_PX) / scale;
  context.strokeStyle = isFlagged ? FLAG_COLOR : color;
  context.setLineDash(isFlagged ? [6 / scale, 4 / scale] : []);
  context.stroke(path);
  context.setLineDash([]);
}

export class Overlay {
  private readonly cache = document.createElement("canvas");
  private readonly cacheContext = this.cache.getContext("2d")!;
  private cachedAt: { scale: number; x: number; y: number; width: number; height: number } | null = null;
  private isStale = true;
  private paintedLive: ReadonlySet<string> = new Set();

  invalidate(): void {
    this.isStale = true;
  }

  /** After an edit: repaint only if a defect outside the live (selected) set changed, was added or removed. */
  invalidateChanged(before: Defects, after: Defects): void {
    if (this.isStale) return;
    for (const [key, defect] of after) {
      if (before.get(key) !== defect && !this.paintedLive.has(key)) return this.invalidate();
    }
    for (const key of before.keys()) {
      if (!after.has(key) && !this.paintedLive.has(key)) return this.invalidate();
    }
  }

  /** Blits the cached defects (all but `live`), repainting the cache first when needed. */
  draw(context: CanvasRenderingContext2D, view: Viewport, defects: Defects, live: ReadonlySet<string>, style: OverlayStyle, pixelRatio: number): void {
    const sameLive = live.size === this.paintedLive.size && [...live].every((key) => this.paintedLive.has(key));
    const needed = this.isStale || !sameLive || !this.covers(view);
    if (needed) this.repaint(view, defects, live, style, pixelRatio);
    const at = this.cachedAt!;
    const sx = (view.offsetX - at.x) * view.scale * pixelRatio;
    const sy = (view.offsetY - at.y) * view.scale * pixelRatio;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.drawImage(this.cache, sx, sy, view.width * pixelRatio, view.height * pixelRatio, 0, 0, view.width * pixelRatio, view.height * pixelRatio);
  }

  private covers(view: Viewport): boolean {
    const at = this.cachedAt;
    if (!at || at.scale !== view.scale) return false;
    const visible = view.visible();
    return visible.minX >= at.x && visible.minY >= at.y && visible.maxX <= at.x + at.width && visible.maxY <= at.y + at.height;
  }

  private repaint(view: Viewport, defects: Defects, live: ReadonlySet<string>, style: OverlayStyle, pixelRatio: number): void {
    const margin = CACHE_MARGIN_PX / view.scale;
    const at = {
      scale: view.scale,
      x: view.offsetX - margin,
      y: view.offsetY - margin,
      width: view.width / view.scale + 2 * margin,
      height: view.height / view.scale + 2 * margin,
    };
    const widthPx = Math.ceil((view.width + 2 * CACHE_MARGIN_PX) * pixelRatio);
    const heightPx = Math.ceil((view.height + 2 * CACHE_MARGIN_PX) * pixelRatio);
    if (this.cache.width !== widthPx || this.cache.height !== heightPx) {
      this.cache.width = widthPx;
      this.cache.height = heightPx;
    }
    const context = this.cacheContext;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, widthPx, heightPx);
    const scale = view.scale * pixelRatio;
    context.setTransform(scale, 0, 0, scale, -at.x * scale, -at.y * scale);
    context.lineJoin = "round";
    for (const defect of defects.values()) {
      if (live.has(defect.key) || style.hiddenClassIds.has(defect.defectClassId)) continue;
      const [minX, minY, maxX, maxY] = geometryExtent(defect.geometry);
      if (maxX < at.x || minX > at.x + at.width || maxY < at.y || minY > at.y + at.height) continue;
      paintDefect(context, defect, view.scale, style);
    }
    context.globalAlpha = 1;
    this.paintedLive = new Set(live);
    this.cachedAt = at;
    this.isStale = false;
  }
}

const HANDLE_SIZE_PX = 6; // screen px
const HANDLE_MAX_RING_VERTICES = 400; // traced masks: vertex handles would hide the outline

/** The vertex handles of the one selected defect (select tool), in screen px. */
export function vertexHandlesDraw(context: CanvasRenderingContext2D, view: Viewport, geometry: Geometry): void {
  const half = HANDLE_SIZE_PX / 2;
  context.fillStyle = "#ffffff";
  context.strokeStyle = "#000000";
  context.lineWidth = 1;
  for (const polygon of geometry.polygons) {
    for (const ring of [polygon.exterior, ...polygon.holes]) {
      if (ring.length > HANDLE_MAX_RING_VERTICES) continue;
      for (const vertex of ring) {
        const [x, y] = view.vertexToScreen(vertex);
        context.fillRect(x - half, y - half, HANDLE_SIZE_PX, HANDLE_SIZE_PX);
        context.strokeRect(x - half, y - half, HANDLE_SIZE_PX, HANDLE_SIZE_PX);
      }
    }
  }
}
