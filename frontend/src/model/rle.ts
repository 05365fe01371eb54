/**
 * Uncompressed COCO run-length masks, as the server sends them (qa/agreement.py: the adjudication's difference
 * layers; annotation/geometry.py `rle_decode` is the server's own reader): run lengths over the pixels in
 * column-major order (down each column, then the next column), alternating background and foreground, the first
 * run background (0 when the first pixel is set).
 */
import type { Mask } from "./types";

/** An RGBA colour, each channel 0..255 (alpha too, as ImageData has it). */
export type Rgba = readonly [number, number, number, number];

/** The RGBA pixels of an ImageData (or anything shaped like one): row-major, 4 bytes a pixel. */
export interface RgbaPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** The runs as a {0,1} mask of `width` x `height` at (0, 0). Runs past the last pixel are ignored. */
export function rleToMask(runs: readonly number[], width: number, height: number): Mask {
  const data = new Uint8Array(width * height);
  const size = width * height;
  let position = 0;
  runs.forEach((length, index) => {
    if (index % 2 === 1) {
      for (let offset = position; offset < Math.min(position + length, size); offset += 1) {
        const column = Math.floor(offset / height);
        const row = offset % height;
        data[row * width + column] = 1;
      }
    }
    position += length;
  });
  return { x: 0, y: 0, width, height, data };
}

/** Sets every pixel of `pixels` under the mask's set pixels to `rgba` (replacing, not blending). */
export function maskPaint(pixels: RgbaPixels, mask: Mask, rgba: Rgba): void {
  for (let row = 0; row < mask.height; row += 1) {
    const y = row + mask.y;
    if (y < 0 || y >= pixels.height) continue;
    for (let column = 0; column < mask.width; column += 1) {
      const x = column + mask.x;
      if (x < 0 || x >= pixels.width || !mask.data[row * mask.width + column]) continue;
      pixels.data.set(rgba, (y * pixels.width + x) * 4);
    }
  }
}
