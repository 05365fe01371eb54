import { describe, expect, it } from "vitest";
import { IMAGE_SIDE_PX, LOW_RES_SIDE_PX, resizedShape } from "./prompt";
import { MIN_REGION_FLOOR_PX, minRegionPxFor, smallRegionsRemove, Upscaling, type Window } from "./masks";

/** SAM's wrapper's upscaling done literally (256 -> 1024, crop, -> the image), as the reference. */
function literalUpscale(lowRes: Float32Array, height: number, width: number): Float64Array {
  const resize = (source: Float64Array, inHeight: number, inWidth: number, outHeight: number, outWidth: number, rowStride: number) => {
    const out = new Float64Array(outHeight * outWidth);
    const taps = (inSize: number, outSize: number, at: number) => {
      const position = Math.max((at + 0.5) * (inSize / outSize) - 0.5, 0);
      const first = Math.min(Math.floor(position), inSize - 1);
      return [first, Math.min(first + 1, inSize - 1), Math.min(Math.max(position - first, 0), 1)] as const;
    };
    for (let y = 0; y < outHeight; y += 1) {
      const [y0, y1, wy] = taps(inHeight, outHeight, y);
      for (let x = 0; x < outWidth; x += 1) {
        const [x0, x1, wx] = taps(inWidth, outWidth, x);
        const at = (row: number, column: number) => source[row * rowStride + column]!;
        out[y * outWidth + x] = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
      }
    }
    return out;
  };
  const big = resize(Float64Array.from(lowRes), LOW_RES_SIDE_PX, LOW_RES_SIDE_PX, IMAGE_SIDE_PX, IMAGE_SIDE_PX, LOW_RES_SIDE_PX);
  const [resizedHeight, resizedWidth] = resizedShape(height, width);
  return resize(big, resizedHeight, resizedWidth, height, width, IMAGE_SIDE_PX);
}

/** Low-resolution logits with a positive blob of `radius` cells at (row, column), negative elsewhere. */
function blob(row: number, column: number, radius: number): Float32Array {
  const logits = new Float32Array(LOW_RES_SIDE_PX * LOW_RES_SIDE_PX);
  for (let y = 0; y < LOW_RES_SIDE_PX; y += 1) {
    for (let x = 0; x < LOW_RES_SIDE_PX; x += 1) logits[y * LOW_RES_SIDE_PX + x] = 6 - (12 * Math.hypot(y - row, x - column)) / radius;
  }
  return logits;
}

/** masks.py's speckled_blob in test_sam_masks.py: 60 x 80 px, a blob with a pinhole and a hole, a speck, an island. */
function speckledBlob(): { mask: Uint8Array; window: Window } {
  const width = 80;
  const mask = new Uint8Array(60 * width);
  const fill = (y0: number, y1: number, x0: number, x1: number, value: number) => {
    for (let y = y0; y < y1; y += 1) for (let x = x0; x < x1; x += 1) mask[y * width + x] = value;
  };
  fill(10, 50, 10, 50, 1);
  fill(20, 22, 20, 22, 0); // pinhole, 4 px
  fill(30, 36, 30, 36, 0); // hole, 36 px
  fill(5, 7, 60, 62, 1); // speck, 4 px
  fill(40, 46, 60, 66, 1); // island, 36 px
  return { mask, window: { x: 0, y: 0, width, height: 60 } };
}

function pixelAt(mask: Uint8Array, window: Window, x: number, y: number): number {
  return mask[(y - window.y) * window.width + (x - window.x)]!;
}

function sum(mask: Uint8Array): number {
  return mask.reduce((total, value) => total + value, 0);
}

describe("SAM's masks in the browser, as the server makes them (assist/sam/masks.py)", () => {
  it("upscales the low-resolution logits as SAM's two bilinear resizes do", () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 6 - 3;
    const lowRes = Float32Array.from({ length: LOW_RES_SIDE_PX * LOW_RES_SIDE_PX }, random);
    for (const [height, width] of [[60, 80], [97, 41]] as const) {
      const expected = literalUpscale(lowRes, height, width);
      const mask = new Upscaling(height, width).fullMask(lowRes);
      let disagreeing = 0;
      expected.forEach((logit, index) => (disagreeing += Math.abs(logit) > 1e-4 && (logit > 0 ? 1 : 0) !== mask[index] ? 1 : 0));
      expect(disagreeing).toBe(0);
    }
  });

  it("finds every mask pixel inside the window, and nothing for logits all below the threshold", () => {
    const upscaling = new Upscaling(373, 248);
    const lowRes = blob(100, 60, 12);
    const window = upscaling.window(lowRes)!;
    expect(window.width * window.height).toBeLessThan(373 * 248 / 10);
    const full = upscaling.fullMask(lowRes);
    expect(sum(upscaling.windowMask(lowRes, window))).toBe(sum(full));
    expect(sum(full)).toBeGreaterThan(0);
    expect(upscaling.window(new Float32Array(LOW_RES_SIDE_PX * LOW_RES_SIDE_PX).fill(-1))).toBeNull();
  });

  it("takes 0.1% of the box or of the image as the smallest region", () => {
    expect(minRegionPxFor(null, 373, 248)).toBe(93);
    expect(minRegionPxFor([10, 10, 209, 109], 2048, 2048)).toBe(20);
    expect(minRegionPxFor([10, 10, 20, 20], 2048, 2048)).toBe(MIN_REGION_FLOOR_PX);
  });

  it("fills small holes and removes small islands", () => {
    const { mask, window } = speckledBlob();
    const cleaned = smallRegionsRemove(mask, window, 10);
    expect(pixelAt(cleaned, window, 21, 21)).toBe(1); // pinhole filled
    expect(pixelAt(cleaned, window, 32, 32)).toBe(0); // hole kept
    expect(pixelAt(cleaned, window, 60, 5)).toBe(0); // speck removed
    expect(pixelAt(cleaned, window, 62, 42)).toBe(1); // island kept
    expect(sum(cleaned)).toBe(sum(mask) + 4 - 4);
  });

  it("keeps what the inspector clicked", () => {
    const { mask, window } = speckledBlob();
    const cleaned = smallRegionsRemove(mask, window, 100, [[60, 5]], [[21, 21]]);
    expect(pixelAt(cleaned, window, 60, 5)).toBe(1); // the clicked speck
    expect(pixelAt(cleaned, window, 21, 21)).toBe(0); // the pinhole under the negative click
    expect(pixelAt(cleaned, window, 32, 32)).toBe(1); // the hole, filled
    expect(pixelAt(cleaned, window, 62, 42)).toBe(0); // the island, removed
  });

  it("keeps the largest island when all are small, and leaves a bay at the border", () => {
    const { mask, window } = speckledBlob();
    expect(sum(smallRegionsRemove(mask, window, 10_000))).toBe(40 * 40);
    const bay = new Uint8Array(20 * 20).fill(1);
    for (let y = 8; y < 12; y += 1) for (let x = 0; x < 5; x += 1) bay[y * 20 + x] = 0;
    expect([...smallRegionsRemove(bay, { x: 0, y: 0, width: 20, height: 20 }, 100)]).toEqual([...bay]);
  });

  it("takes holes 4-connected, as the outline traces them", () => {
    const mask = new Uint8Array(100).fill(1);
    mask[44] = 0;
    mask[55] = 0;
    expect(sum(smallRegionsRemove(mask, { x: 0, y: 0, width: 10, height: 10 }, 2))).toBe(100);
  });

  it("cleans a window as its whole image, clicks in image px", () => {
    const upscaling = new Upscaling(373, 248);
    const lowRes = blob(100, 60, 20);
    for (let y = 95; y < 100; y += 1) for (let x = 55; x < 60; x += 1) lowRes[y * LOW_RES_SIDE_PX + x] = -5; // a hole
    const window = upscaling.window(lowRes)!;
    const click: [number, number] = [window.x + Math.floor(window.width / 2), window.y + Math.floor(window.height / 2)];
    const inWindow = smallRegionsRemove(upscaling.windowMask(lowRes, window), window, 93, [click]);
    const whole = smallRegionsRemove(upscaling.fullMask(lowRes), { x: 0, y: 0, width: 248, height: 373 }, 93, [click]);
    expect(sum(inWindow)).toBe(sum(whole));
    for (let y = 0; y < window.height; y += 1) {
      for (let x = 0; x < window.width; x += 1) expect(inWindow[y * window.width + x]).toBe(whole[(window.y + y) * 248 + window.x + x]);
    }
  });
});
