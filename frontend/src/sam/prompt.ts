/**
 * SAM's decoder in the browser, the parts that are plain arithmetic: the server's conventions
 * (assist/sam/transforms.py and runtime.py) written again for the Web Worker, so both decode the same prompt to
 * the same mask. No onnxruntime here: these are unit-tested on their own (prompt.test.ts).
 *
 * Coordinates: (x, y) image px of a pixel centre, (0, 0) the top-left pixel; the whole image is the encoded region
 * (the browser decodes images up to DEFECTLAB_SAM_TILE_PX a side; larger ones are the server's, by tile).
 */
import { hasThreeDistinct } from "../model/mask";
import type { Point, Polygon, Ring } from "../model/types";

export const IMAGE_SIDE_PX = 1024; // the encoder's square input: the longest side resized to this
export const EMBEDDING_SHAPE = [1, 256, 64, 64] as const;
export const LOW_RES_SIDE_PX = 256; // the decoder's mask input
const LABEL_NEGATIVE = 0;
const LABEL_POSITIVE = 1;
const LABEL_BOX_TOP_LEFT = 2;
const LABEL_BOX_BOTTOM_RIGHT = 3;
const LABEL_PADDING = -1;
/** Douglas-Peucker tolerance by geometry kind, image px: assist/outlines.py SIMPLIFY_TOLERANCE_PX. */
export const SIMPLIFY_TOLERANCE_PX = { area: 1.0, linear: 0.5 } as const;
export type GeometryKind = keyof typeof SIMPLIFY_TOLERANCE_PX;

export interface SamPrompt {
  readonly box?: readonly [number, number, number, number] | null;
  readonly positive_clicks?: readonly Point[];
  readonly negative_clicks?: readonly Point[];
}

/** (height, width) after SAM resizes the longest side to 1024, rounded half up (transforms.resized_shape). */
export function resizedShape(height: number, width: number): [number, number] {
  const scale = IMAGE_SIDE_PX / Math.max(height, width);
  return [Math.floor(height * scale + 0.5), Math.floor(width * scale + 0.5)];
}

/**
 * The decoder's point_coords (1, N, 2) and point_labels (1, N): clicks first, then the box's corners, or one padding
 * point labelled -1 when there is no box (transforms.prompt_arrays). x and y scale by the rounded new width and
 * height over the old ones, as ResizeLongestSide.apply_coords.
 */
export function promptArrays(prompt: SamPrompt, imageShape: readonly [number, number]): { coords: Float32Array; labels: Float32Array } {
  const [height, width] = imageShape;
  const [newHeight, newWidth] = resizedShape(height, width);
  const points: Point[] = [...(prompt.positive_clicks ?? []), ...(prompt.negative_clicks ?? [])];
  const labels: number[] = [...(prompt.positive_clicks ?? []).map(() => LABEL_POSITIVE), ...(prompt.negative_clicks ?? []).map(() => LABEL_NEGATIVE)];
  if (prompt.box) {
    const [x0, y0, x1, y1] = prompt.box;
    points.push([x0, y0], [x1, y1]);
    labels.push(LABEL_BOX_TOP_LEFT, LABEL_BOX_BOTTOM_RIGHT);
  }
  const coords = points.flatMap(([x, y]) => [x * (newWidth / width), y * (newHeight / height)]);
  if (!prompt.box) {
    coords.push(0, 0);
    labels.push(LABEL_PADDING);
  }
  return { coords: Float32Array.from(coords), labels: Float32Array.from(labels) };
}

/**
 * One click and nothing else could mean a whole or a part: SAM's three multimask answers are offered, the best
 * first (runtime.Decoded.suggestion). Any more prompt and SAM's single-mask answer (token 0) comes first.
 */
export function isAmbiguous(prompt: SamPrompt): boolean {
  return !prompt.box && (prompt.positive_clicks ?? []).length === 1 && (prompt.negative_clicks ?? []).length === 0;
}

/**
 * The decoder's mask tokens in the order the editor offers them (`iouPredictions` of tokens 0-3): the server's
 * suggestion first, then the other multimask answers by predicted IoU. Tab in the click tool steps through them.
 */
export function tokenOrder(iouPredictions: ArrayLike<number>, prompt: SamPrompt): number[] {
  const multimask = [1, 2, 3].sort((a, b) => iouPredictions[b]! - iouPredictions[a]! || a - b);
  return isAmbiguous(prompt) ? multimask : [0, ...multimask];
}

/** float16 bits -> float32, for the served embedding (.npy, '<f2'). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

let halfTable: Float32Array | null = null;

/**
 * A numpy .npy of float16 in C order (what GET /images/{id}/embedding/ serves) as float32 values and its shape.
 * Throws on anything else: a dtype or layout the decoder would misread.
 */
export function npyFloat16Read(buffer: ArrayBuffer): { data: Float32Array; shape: number[] } {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new Error("the embedding is not a .npy file");
  const major = bytes[6]!;
  const view = new DataView(buffer);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  if (!/'descr':\s*'<f2'/.test(header) || !/'fortran_order':\s*False/.test(header)) {
    throw new Error(`the embedding is not C-ordered little-endian float16: ${header.trim()}`);
  }
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "";
  const shape = shapeText.split(",").map((value) => value.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((product, side) => product * side, 1);
  const dataStart = headerStart + headerLength;
  if (buffer.byteLength - dataStart !== count * 2) throw new Error("the embedding's length does not match its shape");
  const halves = new Uint16Array(buffer.slice(dataStart));
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits += 1) halfTable[bits] = halfToFloat(bits);
  }
  const data = new Float32Array(count);
  for (let index = 0; index < count; index += 1) data[index] = halfTable[halves[index]!]!;
  return { data, shape };
}

/** Squared distance from `point` to the segment a-b. */
function pointSegmentDistanceSquared(point: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = dx * dx + dy * dy;
  const t = length === 0 ? 0 : Math.max(0, Math.min(1, ((point[0] - a[0]) * dx + (point[1] - a[1]) * dy) / length));
  const ex = point[0] - a[0] - t * dx;
  const ey = point[1] - a[1] - t * dy;
  return ex * ex + ey * ey;
}

/** Douglas-Peucker on an open chain: the indices kept, first and last included (distances compared squared). */
function chainSimplify(points: readonly Point[], first: number, last: number, toleranceSquared: number, kept: number[]): void {
  let farthest = -1;
  let distance = toleranceSquared;
  for (let index = first + 1; index < last; index += 1) {
    const from = pointSegmentDistanceSquared(points[index]!, points[first]!, points[last]!);
    if (from > distance) {
      distance = from;
      farthest = index;
    }
  }
  if (farthest < 0) return;
  chainSimplify(points, first, farthest, toleranceSquared, kept);
  kept.push(farthest);
  chainSimplify(points, farthest, last, toleranceSquared, kept);
}

/**
 * A closed ring with as few of its vertices as keep every vertex within `tolerance` px of it (assist/outlines.py
 * ring_simplify, which calls cv2.approxPolyDP): split at the vertex farthest from the first, each half simplified.
 * A ring that would drop below 3 distinct vertices keeps its traced vertices.
 */
export function ringSimplify(ring: Ring, tolerance: number): Ring {
  if (ring.length <= 3 || tolerance <= 0) return ring;
  let split = 0;
  let farthest = -1;
  const [x0, y0] = ring[0]!;
  ring.forEach(([x, y], index) => {
    const distance = (x - x0) * (x - x0) + (y - y0) * (y - y0);
    if (distance > farthest) {
      farthest = distance;
      split = index;
    }
  });
  const closed: Point[] = [...ring, ring[0]!];
  const kept = [0];
  const toleranceSquared = tolerance * tolerance;
  chainSimplify(closed, 0, split, toleranceSquared, kept);
  kept.push(split);
  chainSimplify(closed, split, closed.length - 1, toleranceSquared, kept);
  const simplified = [...new Set(kept)].filter((index) => index < ring.length).map((index) => ring[index]!);
  return hasThreeDistinct(simplified) ? simplified : ring;
}

export function polygonsSimplify(polygons: readonly Polygon[], kind: GeometryKind): Polygon[] {
  const tolerance = SIMPLIFY_TOLERANCE_PX[kind];
  return polygons.map((polygon) => ({
    exterior: ringSimplify(polygon.exterior, tolerance),
    holes: polygon.holes.map((hole) => ringSimplify(hole, tolerance)),
  }));
}
