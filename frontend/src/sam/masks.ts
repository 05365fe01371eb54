/**
 * SAM's answer from its low-resolution logits to the mask an outline is traced from: assist/sam/masks.py written
 * again for the Web Worker, so that the browser's outline is the server's (tests/test_browser_sam.py compares them).
 *
 * Upscaling: the decoder graph stops at its (256, 256) logits; SAM's two bilinear resizes (256 -> 1024, crop the
 * padding, -> the image) are done here as one separable map, for the answer shown only, and only over the window
 * where its mask can be (a bilinear weighting of logits <= 0 is <= 0).
 * Clean-up: holes (4-connected background the mask encloses) and islands (8-connected) under `minRegionPx` go, as
 * SAM's own `remove_small_regions`; an island under a positive click and a hole under a negative one stay, and if
 * every island is small the largest stays.
 */
import type { Point } from "../model/types";
import { IMAGE_SIDE_PX, LOW_RES_SIDE_PX, resizedShape } from "./prompt";

/** assist/sam/masks.py MIN_REGION_SHARE and MIN_REGION_FLOOR_PX. */
export const MIN_REGION_SHARE = 0.001;
export const MIN_REGION_FLOOR_PX = 9;
const TAPS = 4; // low-resolution cells per image px and axis
const SENTINEL = 2; // neither background (0) nor mask (1): the labelling's outermost ring
const MASK_THRESHOLD_LOGIT = 0; // Sam.mask_threshold

/** (x, y, width, height) image px. */
export interface Window {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

interface AxisTaps {
  readonly index: Int32Array; // (length, 4) cells
  readonly weight: Float32Array; // (length, 4)
}

/** PyTorch's bilinear resize along one axis (align_corners=False, no antialiasing): 2 taps an output px. */
function bilinearTaps(inSize: number, outSize: number): { index: Int32Array; weight: Float64Array } {
  const index = new Int32Array(outSize * 2);
  const weight = new Float64Array(outSize * 2);
  for (let out = 0; out < outSize; out += 1) {
    const source = Math.max((out + 0.5) * (inSize / outSize) - 0.5, 0);
    const first = Math.min(Math.floor(source), inSize - 1);
    const second = Math.min(first + 1, inSize - 1);
    const weightSecond = Math.min(Math.max(source - first, 0), 1);
    index[out * 2] = first;
    index[out * 2 + 1] = second;
    weight[out * 2] = 1 - weightSecond;
    weight[out * 2 + 1] = weightSecond;
  }
  return { index, weight };
}

/** One axis of SAM's upscaling (256 -> 1024, crop to `resizedPx`, -> `imagePx`): masks.py axis_taps. */
export function axisTaps(imagePx: number, resizedPx: number): AxisTaps {
  const up = bilinearTaps(LOW_RES_SIDE_PX, IMAGE_SIDE_PX);
  const down = bilinearTaps(resizedPx, imagePx);
  const index = new Int32Array(imagePx * TAPS);
  const weight = new Float32Array(imagePx * TAPS);
  for (let px = 0; px < imagePx; px += 1) {
    for (let downTap = 0; downTap < 2; downTap += 1) {
      const middle = down.index[px * 2 + downTap]!;
      for (let upTap = 0; upTap < 2; upTap += 1) {
        index[px * TAPS + downTap * 2 + upTap] = up.index[middle * 2 + upTap]!;
        weight[px * TAPS + downTap * 2 + upTap] = down.weight[px * 2 + downTap]! * up.weight[middle * 2 + upTap]!;
      }
    }
  }
  return { index, weight };
}

/** The first and last image px with a non-zero weight on a cell in [first, last]; null for none. */
function reached(taps: AxisTaps, first: number, last: number): [number, number] | null {
  let from = -1;
  let to = -1;
  const length = taps.index.length / TAPS;
  for (let px = 0; px < length; px += 1) {
    for (let tap = 0; tap < TAPS; tap += 1) {
      const cell = taps.index[px * TAPS + tap]!;
      if (cell >= first && cell <= last && taps.weight[px * TAPS + tap]! > 0) {
        if (from < 0) from = px;
        to = px;
        break;
      }
    }
  }
  return from < 0 ? null : [from, to];
}

export class Upscaling {
  readonly rows: AxisTaps;
  readonly columns: AxisTaps;

  constructor(
    readonly height: number,
    readonly width: number,
  ) {
    const [resizedHeight, resizedWidth] = resizedShape(height, width);
    this.rows = axisTaps(height, resizedHeight);
    this.columns = axisTaps(width, resizedWidth);
  }

  /** The smallest window outside which the mask of `lowRes` (256 x 256 logits) is background; null: empty. */
  window(lowRes: Float32Array): Window | null {
    let rowFirst = -1;
    let rowLast = -1;
    let columnFirst = LOW_RES_SIDE_PX;
    let columnLast = -1;
    for (let row = 0; row < LOW_RES_SIDE_PX; row += 1) {
      for (let column = 0; column < LOW_RES_SIDE_PX; column += 1) {
        if (lowRes[row * LOW_RES_SIDE_PX + column]! <= MASK_THRESHOLD_LOGIT) continue;
        if (rowFirst < 0) rowFirst = row;
        rowLast = row;
        if (column < columnFirst) columnFirst = column;
        if (column > columnLast) columnLast = column;
      }
    }
    if (rowFirst < 0) return null;
    const rows = reached(this.rows, rowFirst, rowLast);
    const columns = reached(this.columns, columnFirst, columnLast);
    if (!rows || !columns) return null; // above the threshold only in the padding
    return { x: columns[0], y: rows[0], width: columns[1] - columns[0] + 1, height: rows[1] - rows[0] + 1 };
  }

  /** The window's mask (one byte a px, row-major), thresholded from the upscaled logits. */
  windowMask(lowRes: Float32Array, window: Window): Uint8Array {
    const { rows, columns } = this;
    const rowLogits = new Float64Array(LOW_RES_SIDE_PX);
    const mask = new Uint8Array(window.width * window.height);
    for (let y = 0; y < window.height; y += 1) {
      rowLogits.fill(0);
      for (let tap = 0; tap < TAPS; tap += 1) {
        const weight = rows.weight[(window.y + y) * TAPS + tap]!;
        if (weight === 0) continue;
        const from = rows.index[(window.y + y) * TAPS + tap]! * LOW_RES_SIDE_PX;
        for (let column = 0; column < LOW_RES_SIDE_PX; column += 1) rowLogits[column]! += weight * lowRes[from + column]!;
      }
      for (let x = 0; x < window.width; x += 1) {
        let logit = 0;
        const at = (window.x + x) * TAPS;
        for (let tap = 0; tap < TAPS; tap += 1) logit += columns.weight[at + tap]! * rowLogits[columns.index[at + tap]!]!;
        mask[y * window.width + x] = logit > MASK_THRESHOLD_LOGIT ? 1 : 0;
      }
    }
    return mask;
  }

  /** The whole image's mask (one byte a px, row-major). */
  fullMask(lowRes: Float32Array): Uint8Array {
    const full = new Uint8Array(this.height * this.width);
    const window = this.window(lowRes);
    if (window) placeInto(full, this.width, this.windowMask(lowRes, window), window);
    return full;
  }
}

/** Copies a window's mask into a whole-image mask `width` px wide. */
export function placeInto(full: Uint8Array, width: number, mask: Uint8Array, window: Window): void {
  for (let row = 0; row < window.height; row += 1) {
    full.set(mask.subarray(row * window.width, (row + 1) * window.width), (window.y + row) * width + window.x);
  }
}

/** The clean-up's area threshold, px: masks.py min_region_px_for. */
export function minRegionPxFor(box: readonly [number, number, number, number] | null | undefined, height: number, width: number): number {
  const referencePx = box ? (Math.abs(box[2] - box[0]) + 1) * (Math.abs(box[3] - box[1]) + 1) : height * width;
  return Math.max(MIN_REGION_FLOOR_PX, Math.ceil(MIN_REGION_SHARE * referencePx));
}

/**
 * Labels the pixels of `grid` (`width` px wide) equal to `value`, 4- or 8-connected: a label a pixel (-1 for the
 * others) and each label's area. The grid's outermost ring must hold neither value (a sentinel): no bounds checks.
 */
function regionsLabel(grid: Uint8Array, width: number, value: number, connectivity: 4 | 8): { labels: Int32Array; areas: number[] } {
  const labels = new Int32Array(grid.length).fill(-1);
  const areas: number[] = [];
  const stack = new Int32Array(grid.length);
  const steps = connectivity === 4 ? Int32Array.of(-1, 1, -width, width) : Int32Array.of(-width - 1, -width, -width + 1, -1, 1, width - 1, width, width + 1);
  for (let start = 0; start < grid.length; start += 1) {
    if (grid[start] !== value || labels[start]! >= 0) continue;
    const label = areas.length;
    let area = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const at = stack[--top]!;
      area += 1;
      for (let step = 0; step < steps.length; step += 1) {
        const next = at + steps[step]!;
        if (grid[next] !== value || labels[next]! >= 0) continue;
        labels[next] = label;
        stack[top++] = next;
      }
    }
    areas.push(area);
  }
  return { labels, areas };
}

/** Padded-grid indices of the clicks (image px) that lie on the window. */
function clickedCells(points: readonly Point[], window: Window): number[] {
  const cells: number[] = [];
  for (const [x, y] of points) {
    const column = Math.floor(x + 0.5) - window.x;
    const row = Math.floor(y + 0.5) - window.y;
    if (row >= 0 && column >= 0 && row < window.height && column < window.width) cells.push((row + 2) * (window.width + 4) + column + 2);
  }
  return cells;
}

/**
 * The window's mask (every image px outside it background) without holes and islands under `minRegionPx`
 * (masks.py small_regions_remove); clicks in image px.
 */
export function smallRegionsRemove(mask: Uint8Array, window: Window, minRegionPx: number, positiveClicks: readonly Point[] = [], negativeClicks: readonly Point[] = []): Uint8Array {
  // Background all round (whatever touches it reaches the image's border), and a sentinel ring outside that.
  const paddedWidth = window.width + 4;
  const padded = new Uint8Array(paddedWidth * (window.height + 4)).fill(SENTINEL);
  for (let row = -1; row <= window.height; row += 1) padded.fill(0, (row + 2) * paddedWidth + 1, (row + 3) * paddedWidth - 1);
  for (let row = 0; row < window.height; row += 1) padded.set(mask.subarray(row * window.width, (row + 1) * window.width), (row + 2) * paddedWidth + 2);
  const holes = regionsLabel(padded, paddedWidth, 0, 4);
  const fill = holes.areas.map((area) => area < minRegionPx);
  fill[holes.labels[paddedWidth + 1]!] = false; // the background outside
  for (const cell of clickedCells(negativeClicks, window)) if (holes.labels[cell]! >= 0) fill[holes.labels[cell]!] = false;
  for (let index = 0; index < padded.length; index += 1) if (holes.labels[index]! >= 0 && fill[holes.labels[index]!]) padded[index] = 1;
  const islands = regionsLabel(padded, paddedWidth, 1, 8);
  const keep = islands.areas.map((area) => area >= minRegionPx);
  for (const cell of clickedCells(positiveClicks, window)) if (islands.labels[cell]! >= 0) keep[islands.labels[cell]!] = true;
  if (islands.areas.length > 0 && !keep.includes(true)) {
    let largest = 0;
    islands.areas.forEach((area, label) => {
      if (area > islands.areas[largest]!) largest = label;
    });
    keep[largest] = true;
  }
  const cleaned = new Uint8Array(window.width * window.height);
  for (let row = 0; row < window.height; row += 1) {
    for (let column = 0; column < window.width; column += 1) {
      const label = islands.labels[(row + 2) * paddedWidth + column + 2]!;
      cleaned[row * window.width + column] = label >= 0 && keep[label] ? 1 : 0;
    }
  }
  return cleaned;
}
