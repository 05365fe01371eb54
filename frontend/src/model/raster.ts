/**
 * Rasterising geometry exactly as the server does (annotation/geometry.py `rasterize_crop`):
 * cv2.fillPoly + cv2.polylines, 8-connected lines, vertices in 1/16-pixel fixed point (shift = 4).
 *
 * Rule: fill the exterior including the pixels its outline passes through; clear each hole's inside but keep
 * the pixels on the hole's outline. Area is this pixel count, never the shoelace area.
 *
 * The OpenCV routines involved are mirrored here (modules/imgproc/src/drawing.cpp) and checked pixel for pixel
 * against the server's OpenCV 4.13 (model/fixtures/opencv.json):
 * - fillPoly: `CollectPolyEdges` (edges between vertices rounded half up to whole pixels, each edge also drawn
 *   with the 8-connected Bresenham `LineIterator`, clipped to the crop) and `FillEdgeCollection` (scanlines in
 *   16.16 fixed point, span ends rounded inward);
 * - polylines with LINE_8: in OpenCV 4.13 the same rounding and Bresenham line (older releases used a
 *   fixed-point DDA, `Line2`, which picks other pixels on some slopes: the fixtures pin the version).
 */
import type { Box, Mask, Polygon, Ring } from "./types";

const SUBPIXEL_BITS = 4; // cv2 fixed point used by the server: vertices rounded to 1/16 px
const XY_SHIFT = 16; // OpenCV's internal fixed point
const XY_ONE = 1 << XY_SHIFT;

/** C/C++ integer division: truncates toward zero. Exact here: all operands stay far below 2^53. */
function divTrunc(numerator: number, denominator: number): number {
  return Math.trunc(numerator / denominator);
}

/** Arithmetic shift right for values beyond 32 bits. */
function shiftRight(value: number, bits: number): number {
  return Math.floor(value / 2 ** bits);
}

/** numpy's np.round: half to even (the server rounds vertices to 1/16 px this way). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function put(mask: Mask, x: number, y: number, value: number): void {
  if (x >= 0 && x < mask.width && y >= 0 && y < mask.height) mask.data[y * mask.width + x] = value;
}

/** OpenCV `clipLine` on whole pixels (Cohen-Sutherland with truncating division); null when fully outside. */
function clipLine(
  width: number,
  height: number,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): [number, number, number, number] | null {
  const right = width - 1;
  const bottom = height - 1;
  const code = (x: number, y: number): number =>
    (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0);
  let c1 = code(x1, y1);
  let c2 = code(x2, y2);
  if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
    if (c1 & 12) {
      const a = c1 < 8 ? 0 : bottom;
      x1 += divTrunc((a - y1) * (x2 - x1), y2 - y1);
      y1 = a;
      c1 = (x1 < 0 ? 1 : 0) + (x1 > right ? 2 : 0);
    }
    if (c2 & 12) {
      const a = c2 < 8 ? 0 : bottom;
      x2 += divTrunc((a - y2) * (x2 - x1), y2 - y1);
      y2 = a;
      c2 = (x2 < 0 ? 1 : 0) + (x2 > right ? 2 : 0);
    }
    if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
      if (c1) {
        const a = c1 === 1 ? 0 : right;
        y1 += divTrunc((a - x1) * (y2 - y1), x2 - x1);
        x1 = a;
        c1 = 0;
      }
      if (c2) {
        const a = c2 === 1 ? 0 : right;
        y2 += divTrunc((a - x2) * (y2 - y1), x2 - x1);
        x2 = a;
        c2 = 0;
      }
    }
  }
  return (c1 | c2) === 0 ? [x1, y1, x2, y2] : null;
}

/** OpenCV `Line` through `LineIterator` (8-connected Bresenham, walked left to right, clipped first). */
function lineBresenham(mask: Mask, x0: number, y0: number, x1: number, y1: number, value: number): void {
  if (x0 < 0 || x1 < 0 || y0 < 0 || y1 < 0 || x0 >= mask.width || x1 >= mask.width || y0 >= mask.height || y1 >= mask.height) {
    const clipped = clipLine(mask.width, mask.height, x0, y0, x1, y1);
    if (clipped === null) return;
    [x0, y0, x1, y1] = clipped;
  }
  if (x1 < x0) {
    [x0, x1] = [x1, x0];
    [y0, y1] = [y1, y0];
  }
  let dx = x1 - x0;
  let dy = y1 - y0;
  const stepY = dy < 0 ? -1 : 1;
  dy = Math.abs(dy);
  // Major axis: x unless the line is steeper than 45 degrees.
  const steep = dy > dx;
  if (steep) [dx, dy] = [dy, dx];
  let error = dx - (dy + dy);
  const plusDelta = dx + dx;
  const minusDelta = -(dy + dy);
  let x = x0;
  let y = y0;
  for (let index = 0; index <= dx; index += 1) {
    put(mask, x, y, value);
    const minor = error < 0;
    error += minusDelta + (minor ? plusDelta : 0);
    if (steep) {
      y += stepY;
      if (minor) x += 1;
    } else {
      x += 1;
      if (minor) y += stepY;
    }
  }
}

interface Edge {
  y0: number;
  y1: number;
  x: number;
  dx: number;
}

/** Vertices in 1/16 px relative to the crop, as the server's `_fixed_point` computes them. */
function fixedRing(ring: Ring, box: Box): Array<[number, number]> {
  const scale = 1 << SUBPIXEL_BITS;
  return ring.map(([x, y]) => [roundHalfEven((x - box.x) * scale), roundHalfEven((y - box.y) * scale)]);
}

/** cv2.fillPoly(mask, [ring], value, LINE_8, shift=4) for one ring. */
function fillRing(mask: Mask, ring: Array<[number, number]>, value: number): void {
  const half = (1 << SUBPIXEL_BITS) >> 1;
  const edges: Edge[] = [];
  const toEdgePoint = ([x, y]: [number, number]): [number, number] => [
    x * 2 ** (XY_SHIFT - SUBPIXEL_BITS),
    shiftRight(y + half, SUBPIXEL_BITS),
  ];
  let [p0x, p0y] = toEdgePoint(ring[ring.length - 1]!);
  for (const vertex of ring) {
    const [p1x, p1y] = toEdgePoint(vertex);
    let t0x = shiftRight(p0x + (XY_ONE >> 1), XY_SHIFT);
    let t1x = shiftRight(p1x + (XY_ONE >> 1), XY_SHIFT);
    lineBresenham(mask, t0x, p0y, t1x, p1y, value);
    // "use clipped endpoints to create a more accurate PolyEdge"
    let c0y = p0y;
    let c1y = p1y;
    const outside = (x: number, y: number): boolean => x < 0 || y < 0 || x >= mask.width || y >= mask.height;
    if (outside(t0x, p0y) || outside(t1x, p1y)) {
      const clipped = clipLine(mask.width, mask.height, t0x, p0y, t1x, p1y);
      if (clipped !== null) {
        const [a, b, c, d] = clipped;
        t0x = a;
        t1x = c;
        if (b !== d) {
          c0y = b;
          c1y = d;
        }
      }
    }
    if (p0y !== p1y) {
      const c0x = t0x * XY_ONE;
      const c1x = t1x * XY_ONE;
      const dx = divTrunc(c1x - c0x, c1y - c0y);
      edges.push(
        p0y < p1y
          ? { y0: p0y, y1: p1y, x: c0x + (p0y - c0y) * dx, dx }
          : { y0: p1y, y1: p0y, x: c1x + (p1y - c1y) * dx, dx },
      );
    }
    p0x = p1x;
    p0y = p1y;
  }
  fillEdges(mask, edges, value);
}

/** `FillEdgeCollection`: even-odd spans between active edges, left end rounded up, right end down. */
function fillEdges(mask: Mask, edges: Edge[], value: number): void {
  if (edges.length < 2) return;
  edges.sort((a, b) => a.y0 - b.y0 || a.x - b.x || a.dx - b.dx);
  const yMin = edges[0]!.y0;
  const yMax = Math.min(Math.max(...edges.map((edge) => edge.y1)), mask.height);
  const round = XY_ONE - 1;
  let next = 0;
  let active: Edge[] = [];
  for (let y = yMin; y < yMax; y += 1) {
    active = active.filter((edge) => edge.y1 !== y);
    while (next < edges.length && edges[next]!.y0 === y) active.push(edges[next++]!);
    // OpenCV keeps the active list sorted by x (stable insertion, then a bubble sort after each row).
    active.sort((a, b) => a.x - b.x);
    for (let index = 0; index + 1 < active.length; index += 2) {
      const left = active[index]!;
      const right = active[index + 1]!;
      if (y >= 0) {
        const x1 = Math.max(shiftRight(Math.min(left.x, right.x) + round, XY_SHIFT), 0);
        const x2 = Math.min(shiftRight(Math.max(left.x, right.x), XY_SHIFT), mask.width - 1);
        const row = y * mask.width;
        for (let x = x1; x <= x2; x += 1) mask.data[row + x] = value;
      }
      left.x += left.dx;
      right.x += right.dx;
    }
  }
}

/** cv2.polylines(mask, [ring], True, value, LINE_8, shift=4): endpoints rounded half up, Bresenham lines. */
function outlineRing(mask: Mask, ring: Array<[number, number]>, value: number): void {
  const half = (1 << SUBPIXEL_BITS) >> 1;
  const round = (value16: number): number => shiftRight(value16 + half, SUBPIXEL_BITS);
  let [p0x, p0y] = ring[ring.length - 1]!;
  for (const [x, y] of ring) {
    lineBresenham(mask, round(p0x), round(p0y), round(x), round(y), value);
    p0x = x;
    p0y = y;
  }
}

/** The pixel-extent box of the exteriors (annotation/geometry.py `polygons_bbox`). */
export function polygonsBbox(polygons: readonly Polygon[]): Box {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const polygon of polygons) {
    for (const [x, y] of polygon.exterior) {
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
  }
  const x0 = Math.floor(minX + 0.5);
  const y0 = Math.floor(minY + 0.5);
  return { x: x0, y: y0, width: Math.floor(maxX + 0.5) - x0 + 1, height: Math.floor(maxY + 0.5) - y0 + 1 };
}

/** The geometry as a {0,1} mask covering `box` (default: its own bbox), like `rasterize_crop`. */
export function rasterizeCrop(polygons: readonly Polygon[], box: Box = polygonsBbox(polygons)): Mask {
  const size = Math.max(0, box.width * box.height);
  const mask: Mask = { ...box, data: new Uint8Array(size) };
  // A polygon's holes cut only that polygon (an island inside another polygon's hole survives), so polygons
  // with holes are drawn apart and united when there are several, as annotation/geometry.py does.
  const separate = polygons.length > 1 && polygons.some((polygon) => polygon.holes.length > 0);
  const scratch: Mask = separate ? { ...box, data: new Uint8Array(size) } : mask;
  for (const polygon of polygons) {
    const target = separate && polygon.holes.length > 0 ? scratch : mask;
    if (target === scratch && separate) scratch.data.fill(0);
    const exterior = fixedRing(polygon.exterior, box);
    fillRing(target, exterior, 1);
    outlineRing(target, exterior, 1);
    for (const hole of polygon.holes) {
      const holePoints = fixedRing(hole, box);
      fillRing(target, holePoints, 0);
      outlineRing(target, holePoints, 1);
    }
    if (target === scratch && separate) {
      mask.data.forEach((value, index) => {
        mask.data[index] = value | (scratch.data[index] ?? 0);
      });
    }
  }
  return mask;
}
