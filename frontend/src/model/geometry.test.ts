import { describe, expect, it } from "vitest";
import fixtures from "./fixtures/opencv.json";
import { maskCount, maskToPolygons } from "./mask";
import { measure } from "./measure";
import { minSizeViolations, minimumSizeOf } from "./rules";
import { polygonsBbox, rasterizeCrop } from "./raster";
import type { Geometry, Mask, Point, Polygon, Ring } from "./types";

function bits(mask: Mask): string {
  return Array.from(mask.data, (value) => (value ? "1" : "0")).join("");
}

function maskFromBits(width: number, height: number, text: string): Mask {
  return { x: 0, y: 0, width, height, data: Uint8Array.from(text, (character) => (character === "1" ? 1 : 0)) };
}

describe("rasterising matches the server (cv2.fillPoly + polylines, shift 4)", () => {
  it.each(fixtures.raster.map((fixture, index) => [index, fixture] as const))("case %i", (_index, fixture) => {
    // given
    const polygons = (fixture.geometry as unknown as Geometry).polygons;
    // when
    const box = polygonsBbox(polygons);
    const mask = rasterizeCrop(polygons, box);
    // then
    expect([box.x, box.y, box.width, box.height]).toEqual(fixture.box);
    expect(bits(mask)).toBe(fixture.bits);
    expect(maskCount(mask)).toBe(fixture.area_px);
    const measured = measure(polygons);
    expect(measured.areaPx).toBe(fixture.area_px);
    // The minimum rotated rectangle's area is unique, but several rectangles can share it (cv2.minAreaRect then
    // picks one by its float32 rounding): compare the area, and the sides where no tie is possible.
    const rectangleArea = (lengthPx: number, widthPx: number): number => (lengthPx - 1) * (widthPx - 1);
    expect(rectangleArea(measured.lengthPx, measured.widthPx)).toBeCloseTo(
      rectangleArea(fixture.length_px, fixture.width_px),
      2,
    );
    expect(measured.lengthPx).toBeGreaterThanOrEqual(measured.widthPx);
  });
});

describe("tracing masks matches the server (cv2.findContours RETR_CCOMP, CHAIN_APPROX_SIMPLE)", () => {
  it.each(fixtures.trace.map((fixture, index) => [index, fixture] as const))("case %i", (_index, fixture) => {
    // given
    const mask = maskFromBits(fixture.width, fixture.height, fixture.bits);
    // when
    const polygons = maskToPolygons(mask);
    // then: the same rings (in raster order, where cv2 lists the newest first), and they rasterise back
    // cv2.convexHull may start a degenerate (1- or 2-pixel) hull at another corner: compare rings from their
    // smallest vertex, same direction.
    const canonical = (ring: Ring): string => {
      const key = (point: Point): string => `${point[0].toFixed(2).padStart(8)},${point[1].toFixed(2).padStart(8)}`;
      const start = ring.reduce((best, point, index) => (key(point) < key(ring[best]!) ? index : best), 0);
      return JSON.stringify([...ring.slice(start), ...ring.slice(0, start)]);
    };
    const sorted = (list: readonly Polygon[]): string[] =>
      list.map((polygon) => JSON.stringify([canonical(polygon.exterior), polygon.holes.map(canonical).sort()])).sort();
    expect(sorted(polygons)).toEqual(sorted(fixture.polygons as unknown as Polygon[]));
    if (polygons.length > 0) {
      const again = rasterizeCrop(polygons, { x: 0, y: 0, width: fixture.width, height: fixture.height });
      expect(bits(again)).toBe(fixture.bits);
    }
  });
});

describe("minimum-size reasons read exactly as the server's (annotation/rules.py)", () => {
  it.each(fixtures.rules.map((fixture, index) => [index, fixture] as const))("case %i", (_index, fixture) => {
    // given: the server's own measurement of the shape
    const raster = fixtures.raster[fixture.raster_case]!;
    const box = raster.box as [number, number, number, number];
    const measured = {
      areaPx: raster.area_px,
      lengthPx: raster.length_px,
      widthPx: raster.width_px,
      bbox: { x: box[0], y: box[1], width: box[2], height: box[3] },
    };
    const rule = fixture.rule;
    // when
    const reasons = minSizeViolations({ isLinear: rule.is_linear, ...minimumSizeOf(rule) }, measured, fixture.px_per_mm);
    // then
    expect(reasons).toEqual(fixture.reasons);
  });
});

describe("an island inside another polygon's hole", () => {
  it("survives rasterising in either order", () => {
    // given: a 26 px square with a 14 px hole, and a 6 px island inside the hole
    const square = (x: number, y: number, side: number): Ring => [[x, y], [x + side, y], [x + side, y + side], [x, y + side]];
    const ring: Polygon = { exterior: square(2, 2, 25), holes: [square(8, 8, 13)] };
    const island: Polygon = { exterior: square(12, 12, 5), holes: [] };
    const box = { x: 0, y: 0, width: 30, height: 30 };
    // when
    const first = rasterizeCrop([ring, island], box);
    const second = rasterizeCrop([island, ring], box);
    // then
    expect(bits(first)).toBe(bits(second));
    expect(first.data[15 * 30 + 15]).toBe(1);
  });
});
