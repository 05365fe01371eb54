import { describe, expect, it } from "vitest";
import { maskPaint, rleToMask } from "./rle";

describe("uncompressed COCO runs", () => {
  it("run down each column first, the first run background", () => {
    // 3 wide, 2 high; column-major order: (0,0) (0,1) (1,0) (1,1) (2,0) (2,1)
    const mask = rleToMask([1, 2, 3], 3, 2);
    expect(Array.from(mask.data)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it("start with a zero-length background run when the first pixel is set", () => {
    expect(Array.from(rleToMask([0, 1, 5], 3, 2).data)).toEqual([1, 0, 0, 0, 0, 0]);
  });

  it("ignore runs past the last pixel instead of writing outside the mask", () => {
    expect(Array.from(rleToMask([5, 4], 3, 2).data)).toEqual([0, 0, 0, 0, 0, 1]);
  });
});

describe("painting a mask", () => {
  it("sets the masked pixels to the colour and leaves the others", () => {
    // given
    const pixels = { width: 2, height: 2, data: new Uint8ClampedArray(16) };
    // when
    maskPaint(pixels, rleToMask([0, 1, 3], 2, 2), [10, 20, 30, 40]);
    // then
    expect(Array.from(pixels.data)).toEqual([10, 20, 30, 40, ...new Array(12).fill(0)]);
  });

  it("clips a mask that reaches past the image", () => {
    const pixels = { width: 1, height: 1, data: new Uint8ClampedArray(4) };
    maskPaint(pixels, { x: 0, y: 0, width: 2, height: 2, data: new Uint8Array([1, 1, 1, 1]) }, [1, 2, 3, 4]);
    expect(Array.from(pixels.data)).toEqual([1, 2, 3, 4]);
  });
});
