/**
 * Defect sizes exactly as the server measures them (annotation/geometry.py `measure`, ADR 0001 rule 6):
 * area = rasterised pixel count; length and width = the long and short sides of the minimum-area rotated
 * rectangle around the exterior vertices, plus one pixel each; bbox = pixel extent.
 */
import { convexHull } from "./mask";
import { polygonsBbox, rasterizeCrop } from "./raster";
import type { Box, Point, Polygon } from "./types";

export interface Measurement {
  readonly areaPx: number;
  readonly lengthPx: number;
  readonly widthPx: number;
  readonly bbox: Box;
}

/** Sides (long, short) of the minimum-area rectangle around `points` (rotating calipers over the hull). */
export function minAreaRectSides(points: readonly Point[]): [number, number] {
  const hull = convexHull(points);
  if (hull.length === 0) return [0, 0];
  if (hull.length === 1) return [0, 0];
  if (hull.length === 2) return [Math.hypot(hull[1]![0] - hull[0]![0], hull[1]![1] - hull[0]![1]), 0];
  let best: [number, number] = [Infinity, Infinity];
  let bestArea = Infinity;
  for (let index = 0; index < hull.length; index += 1) {
    const a = hull[index]!;
    const b = hull[(index + 1) % hull.length]!;
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (length === 0) continue;
    const ux = (b[0] - a[0]) / length;
    const uy = (b[1] - a[1]) / length;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const [x, y] of hull) {
      const u = (x - a[0]) * ux + (y - a[1]) * uy;
      const v = -(x - a[0]) * uy + (y - a[1]) * ux;
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      best = [Math.max(maxU - minU, maxV - minV), Math.min(maxU - minU, maxV - minV)];
    }
  }
  return best;
}

export function measure(polygons: readonly Polygon[]): Measurement {
  const bbox = polygonsBbox(polygons);
  const mask = rasterizeCrop(polygons, bbox);
  let areaPx = 0;
  for (let index = 0; index < mask.data.length; index += 1) areaPx += mask.data[index]!;
  const [long, short] = minAreaRectSides(polygons.flatMap((polygon) => polygon.exterior));
  // A ring through pixel centres spans one pixel less than the pixels it covers.
  return { areaPx, lengthPx: long + 1, widthPx: short + 1, bbox };
}
