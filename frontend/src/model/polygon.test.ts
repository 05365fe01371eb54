import { describe, expect, it } from "vitest";
import { maskCreate, maskPaintDisk, maskToPolygons } from "./mask";
import { measure } from "./measure";
import {
  pointInPolygon,
  polygonArea,
  rectanglePolygon,
  ringArea,
  vertexDelete,
  vertexInsert,
} from "./polygon";
import { rasterizeCrop } from "./raster";
import type { Polygon } from "./types";

const square: Polygon = { exterior: [[2, 2], [6, 2], [6, 6], [2, 6]], holes: [] };
const squareWithHole: Polygon = { exterior: square.exterior, holes: [[[3, 3], [5, 3], [5, 5], [3, 5]]] };

describe("polygon area", () => {
  it("is the shoelace area, holes subtracted", () => {
    expect(ringArea(square.exterior)).toBe(16);
    expect(polygonArea(squareWithHole)).toBe(12);
  });

  it("differs from the defect's area, which counts rasterised pixels (ADR 0001)", () => {
    // a square through pixel centres 2..6 covers 25 pixels
    expect(measure([square]).areaPx).toBe(25);
    // the hole's inside (pixel 4,4) is removed, its outline pixels kept
    expect(measure([squareWithHole]).areaPx).toBe(24);
    expect(measure([square]).bbox).toEqual({ x: 2, y: 2, width: 5, height: 5 });
  });
});

describe("point in polygon", () => {
  it("is inside the exterior and outside every hole", () => {
    expect(pointInPolygon([2.5, 2.5], squareWithHole)).toBe(true);
    expect(pointInPolygon([4, 4], squareWithHole)).toBe(false);
    expect(pointInPolygon([7, 4], squareWithHole)).toBe(false);
    expect(pointInPolygon([4, 4], square)).toBe(true);
  });
});

describe("vertex editing", () => {
  it("inserts after a vertex and refuses to leave fewer than three", () => {
    const geometry = { polygons: [rectanglePolygon([0, 0], [4, 2])] };
    const inserted = vertexInsert(geometry, { polygon: 0, ring: 0, vertex: 0 }, [2, 0]);
    expect(inserted.polygons[0]!.exterior).toEqual([[0, 0], [2, 0], [4, 0], [4, 2], [0, 2]]);
    const triangle = { polygons: [{ exterior: [[0, 0], [4, 0], [0, 4]] as const, holes: [] }] };
    expect(vertexDelete(triangle, { polygon: 0, ring: 0, vertex: 1 })).toBeNull();
  });
});

describe("mask <-> polygons", () => {
  it("a brushed ring becomes one polygon with one hole, and rasterises back to the same pixels", () => {
    // given: a disk of radius 8 with a disk of radius 3 erased from its middle
    const mask = maskCreate({ x: 10, y: 20, width: 21, height: 21 });
    maskPaintDisk(mask, 20, 30, 8, 1);
    maskPaintDisk(mask, 20, 30, 3, 0);
    // when
    const polygons = maskToPolygons(mask);
    // then
    expect(polygons).toHaveLength(1);
    expect(polygons[0]!.holes).toHaveLength(1);
    const again = rasterizeCrop(polygons, mask);
    expect(Array.from(again.data)).toEqual(Array.from(mask.data));
  });

  it("keeps one- and two-pixel regions as small hulls", () => {
    const mask = maskCreate({ x: 0, y: 0, width: 5, height: 3 });
    mask.data[1 * 5 + 1] = 1;
    const [polygon] = maskToPolygons(mask);
    expect(polygon!.exterior).toEqual([[0.75, 0.75], [1.25, 0.75], [1.25, 1.25], [0.75, 1.25]]);
    expect(measure([polygon!]).areaPx).toBe(1);
  });
});
