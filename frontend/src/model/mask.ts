/**
 * Masks (brush and eraser strokes) and tracing them into polygons with holes, exactly as the server's
 * `mask_to_polygons` does with cv2.findContours(RETR_CCOMP, CHAIN_APPROX_SIMPLE):
 * - 8-connected foreground regions; each outer border becomes a polygon exterior, each hole border a hole ring
 *   of the region around it (a region inside a hole becomes a polygon of its own, as RETR_CCOMP puts it at the
 *   top level);
 * - rings run through boundary pixel centres, keeping only the pixels where the chain direction changes;
 * - regions of one or two pixels become a small hull a quarter pixel around their centres.
 * Under the shared rasterising rule (raster.ts) the traced polygons cover exactly the traced pixels.
 *
 * Border following is Suzuki & Abe (1985) with OpenCV's neighbour order and start rules (`icvFetchContour`).
 */
import type { Box, Mask, Point, Polygon, Ring } from "./types";

/** A 1- or 2-pixel region becomes a hull this far (px) around its pixel centres (annotation/geometry.py). */
export const DEGENERATE_RING_HALF_WIDTH_PX = 0.25;

// Chain codes: 0 east, 1 north-east, 2 north, 3 north-west, 4 west, 5 south-west, 6 south, 7 south-east.
const CODE_DX = [1, 1, 0, -1, -1, -1, 0, 1];
const CODE_DY = [0, -1, -1, -1, 0, 1, 1, 1];

export function maskCreate(box: Box): Mask {
  return { ...box, data: new Uint8Array(box.width * box.height) };
}

export function maskCount(mask: Mask): number {
  let count = 0;
  for (let index = 0; index < mask.data.length; index += 1) count += mask.data[index]!;
  return count;
}

export function maskGet(mask: Mask, x: number, y: number): number {
  const column = x - mask.x;
  const row = y - mask.y;
  if (column < 0 || row < 0 || column >= mask.width || row >= mask.height) return 0;
  return mask.data[row * mask.width + column]!;
}

/** A copy of `mask` covering `box` (pixels outside `mask` are 0, pixels outside `box` are dropped). */
export function maskReframe(mask: Mask, box: Box): Mask {
  const result = maskCreate(box);
  const x0 = Math.max(box.x, mask.x);
  const x1 = Math.min(box.x + box.width, mask.x + mask.width);
  for (let y = Math.max(box.y, mask.y); y < Math.min(box.y + box.height, mask.y + mask.height); y += 1) {
    for (let x = x0; x < x1; x += 1) {
      result.data[(y - box.y) * box.width + (x - box.x)] = mask.data[(y - mask.y) * mask.width + (x - mask.x)]!;
    }
  }
  return result;
}

/** Sets (value 1) or clears (0) every pixel whose centre lies within `radius` px of (centerX, centerY). */
export function maskPaintDisk(mask: Mask, centerX: number, centerY: number, radius: number, value: 0 | 1): void {
  const radiusSquared = radius * radius;
  const y0 = Math.max(mask.y, Math.ceil(centerY - radius));
  const y1 = Math.min(mask.y + mask.height - 1, Math.floor(centerY + radius));
  for (let y = y0; y <= y1; y += 1) {
    const dy = y - centerY;
    const half = Math.sqrt(Math.max(0, radiusSquared - dy * dy));
    const x0 = Math.max(mask.x, Math.ceil(centerX - half));
    const x1 = Math.min(mask.x + mask.width - 1, Math.floor(centerX + half));
    const row = (y - mask.y) * mask.width - mask.x;
    for (let x = x0; x <= x1; x += 1) mask.data[row + x] = value;
  }
}

/** Paints disks along the segment so a fast stroke leaves no gaps (one stamp every half radius). */
export function maskPaintSegment(mask: Mask, from: Point, to: Point, radius: number, value: 0 | 1): void {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]);
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 2)));
  for (let step = 0; step <= steps; step += 1) {
    const t = step / steps;
    maskPaintDisk(mask, from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t, radius, value);
  }
}

interface Border {
  readonly isHole: boolean;
  readonly parent: number; // border number; 1 is the frame
  readonly ring: Point[];
}

/**
 * Suzuki border following over a zero-padded label image. `labels` holds 0 (background), 1 (unvisited
 * foreground), +n (visited by border n) and -n (border n's pixel whose east neighbour is background).
 */
function followBorder(
  labels: Int32Array,
  stride: number,
  start: number,
  isHole: boolean,
  label: number,
  origin: Point,
): Point[] {
  const deltas = [1, -stride + 1, -stride, -stride - 1, -1, stride - 1, stride, stride + 1];
  const ring: Point[] = [];
  let [x, y] = origin;
  const searchEnd = isHole ? 0 : 4;
  let s = searchEnd;
  let first = start;
  do {
    s = (s - 1) & 7;
    first = start + deltas[s]!;
  } while (labels[first] === 0 && s !== searchEnd);
  if (s === searchEnd) {
    labels[start] = -label; // a single pixel
    ring.push([x, y]);
    return ring;
  }
  let current = start;
  let previousCode = s ^ 4;
  for (;;) {
    const searchFrom = s;
    let next = current;
    for (;;) {
      s += 1;
      next = current + deltas[s & 7]!;
      if (labels[next] !== 0) break;
    }
    s &= 7;
    if (s - 1 >= 0 && s - 1 < searchFrom) {
      labels[current] = -label; // the east neighbour was examined and is background
    } else if (labels[current] === 1) {
      labels[current] = label;
    }
    if (s !== previousCode) {
      ring.push([x, y]);
      previousCode = s;
    }
    x += CODE_DX[s]!;
    y += CODE_DY[s]!;
    if (next === start && current === first) break;
    current = next;
    s = (s + 4) & 7;
  }
  return ring;
}

/** Every border of the mask, in raster order of their starting pixels, with Suzuki's parent rule. */
function traceBorders(mask: Mask): Border[] {
  const stride = mask.width + 2;
  const labels = new Int32Array(stride * (mask.height + 2));
  for (let row = 0; row < mask.height; row += 1) {
    for (let column = 0; column < mask.width; column += 1) {
      if (mask.data[row * mask.width + column]) labels[(row + 1) * stride + column + 1] = 1;
    }
  }
  const borders: Border[] = [];
  const kinds: boolean[] = [true, true]; // index = border number; 1 is the frame, a "hole" around everything
  const parents: number[] = [0, 0];
  let label = 1;
  for (let row = 1; row <= mask.height; row += 1) {
    let lastBorder = 1;
    for (let column = 1; column <= mask.width + 1; column += 1) {
      const index = row * stride + column;
      const previous = labels[index - 1]!;
      const value = labels[index]!;
      let isHole: boolean | null = null;
      if (previous === 0 && value === 1) isHole = false;
      else if (value === 0 && previous >= 1) isHole = true;
      if (isHole !== null) {
        label += 1;
        const start = isHole ? index - 1 : index;
        const origin: Point = [column - (isHole ? 1 : 0) - 1 + mask.x, row - 1 + mask.y];
        const parent = kinds[lastBorder] === isHole ? parents[lastBorder]! : lastBorder;
        kinds[label] = isHole;
        parents[label] = parent;
        borders.push({ isHole, parent, ring: followBorder(labels, stride, start, isHole, label, origin) });
        // Suzuki: after following, the last border met is the one through the start pixel.
        const startLabel = labels[start]!;
        if (startLabel !== 1) lastBorder = Math.abs(startLabel);
      }
      const after = labels[index]!;
      if (after !== 0 && after !== 1) lastBorder = Math.abs(after);
    }
  }
  return borders;
}

function hullAround(ring: Ring): Point[] {
  const offsets: Point[] = [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ];
  const points: Point[] = [];
  for (const [x, y] of ring) {
    for (const [dx, dy] of offsets) {
      points.push([x + dx * DEGENERATE_RING_HALF_WIDTH_PX, y + dy * DEGENERATE_RING_HALF_WIDTH_PX]);
    }
  }
  return convexHull(points);
}

/** Convex hull (Andrew's monotone chain), clockwise in image coordinates like cv2.convexHull. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique = sorted.filter((point, index) => index === 0 || point[0] !== sorted[index - 1]![0] || point[1] !== sorted[index - 1]![1]);
  if (unique.length < 3) return unique;
  const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const point of unique) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, point) <= 0) lower.pop();
    lower.push(point);
  }
  const upper: Point[] = [];
  for (let index = unique.length - 1; index >= 0; index -= 1) {
    const point = unique[index]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, point) <= 0) upper.pop();
    upper.push(point);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

function contourRing(ring: Point[]): Ring {
  return hasThreeDistinct(ring) ? ring : hullAround(ring);
}

/** Whether a ring has at least 3 distinct vertices (without building a key per vertex). */
export function hasThreeDistinct(ring: readonly Point[]): boolean {
  const first = ring[0];
  if (!first) return false;
  let second: Point | null = null;
  for (const point of ring) {
    if (point[0] === first[0] && point[1] === first[1]) continue;
    if (!second) second = point;
    else if (point[0] !== second[0] || point[1] !== second[1]) return true;
  }
  return false;
}

/** The mask's regions as polygons with holes: the rings of annotation/geometry.py `mask_to_polygons`. */
export function maskToPolygons(mask: Mask): Polygon[] {
  const borders = traceBorders(mask);
  const polygons: Polygon[] = [];
  const byNumber = new Map<number, { exterior: Ring; holes: Ring[] }>();
  borders.forEach((border, index) => {
    const number = index + 2;
    if (!border.isHole) {
      const polygon = { exterior: contourRing(border.ring), holes: [] as Ring[] };
      byNumber.set(number, polygon);
      polygons.push(polygon);
    } else {
      byNumber.get(border.parent)?.holes.push(contourRing(border.ring));
    }
  });
  // Raster order (cv2 lists the same rings newest first). Kept on purpose: a region inside another region's hole
  // comes after it, so rasterising the polygons in order (hole insides cleared per polygon) cannot erase it.
  return polygons;
}
