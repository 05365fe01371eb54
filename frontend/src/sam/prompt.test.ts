import { describe, expect, it } from "vitest";
import { halfToFloat, isAmbiguous, npyFloat16Read, promptArrays, resizedShape, ringSimplify, tokenOrder } from "./prompt";

/** A .npy as numpy writes it (version 1.0, header padded to 64 bytes with spaces and a newline). */
function npy(descr: string, shape: string, halves: number[]): ArrayBuffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = `${dict}${" ".repeat(total - 10 - dict.length - 1)}\n`;
  const bytes = new Uint8Array(10 + header.length + halves.length * 2);
  bytes.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  const data = new DataView(bytes.buffer, 10 + header.length);
  halves.forEach((half, index) => data.setUint16(index * 2, half, true));
  return bytes.buffer;
}

describe("SAM's prompt in the browser, as the server builds it (assist/sam/transforms.py)", () => {
  it("resizes the longest side to 1024, rounding half up", () => {
    expect(resizedShape(600, 800)).toEqual([768, 1024]);
    expect(resizedShape(90, 120)).toEqual([768, 1024]);
    expect(resizedShape(1000, 3)).toEqual([1024, 3]);
  });

  it("gives one click the padding point, and clicks and a box their labels, at the server's coordinates", () => {
    // Expected values: prompt_arrays of the same prompts, printed by the server's code.
    const click = promptArrays({ positive_clicks: [[320, 300]] }, [600, 800]);
    expect([...click.coords]).toEqual([409.6000061035156, 384, 0, 0]);
    expect([...click.labels]).toEqual([1, -1]);
    const full = promptArrays({ positive_clicks: [[10, 20]], negative_clicks: [[30, 40]], box: [5, 6, 70, 80] }, [90, 120]);
    expect([...full.coords]).toEqual([85.33333587646484, 170.6666717529297, 256, 341.3333435058594, 42.66666793823242, 51.20000076293945, 597.3333129882812, 682.6666870117188]);
    expect([...full.labels]).toEqual([1, 0, 2, 3]);
  });

  it("offers the best multimask answer first for one click, the single-mask answer first otherwise", () => {
    const scores = [0.5, 0.2, 0.9, 0.4];
    expect(isAmbiguous({ positive_clicks: [[1, 1]] })).toBe(true);
    expect(tokenOrder(scores, { positive_clicks: [[1, 1]] })).toEqual([2, 3, 1]);
    expect(tokenOrder(scores, { positive_clicks: [[1, 1]], negative_clicks: [[2, 2]] })).toEqual([0, 2, 3, 1]);
    expect(tokenOrder(scores, { box: [0, 0, 5, 5] })).toEqual([0, 2, 3, 1]);
  });
});

describe("the served embedding", () => {
  it("reads float16 .npy values and shape", () => {
    const read = npyFloat16Read(npy("<f2", "(1, 2, 2)", [0x3c00, 0xc000, 0x3800, 0x7bff]));
    expect(read.shape).toEqual([1, 2, 2]);
    expect([...read.data]).toEqual([1, -2, 0.5, 65504]);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10); // the smallest subnormal
  });

  it("refuses another dtype or a short file rather than misread it", () => {
    expect(() => npyFloat16Read(npy("<f4", "(1, 2)", [0, 0, 0, 0]))).toThrow("not C-ordered little-endian float16");
    expect(() => npyFloat16Read(npy("<f2", "(1, 3)", [0, 0]))).toThrow("does not match its shape");
    expect(() => npyFloat16Read(new TextEncoder().encode("not numpy at all").buffer as ArrayBuffer)).toThrow("not a .npy file");
  });
});

describe("the outline's simplification (assist/outlines.py's tolerance)", () => {
  it("keeps the corners of a traced square and drops the vertices along its edges", () => {
    const traced = [[0, 0], [0, 1], [0, 2], [0, 3], [1, 3], [2, 3], [3, 3], [3, 2], [3, 1], [3, 0], [2, 0], [1, 0]] as const;
    expect(ringSimplify(traced, 1.0)).toEqual([[0, 0], [0, 3], [3, 3], [3, 0]]);
  });

  it("keeps a bump larger than the tolerance, and a ring that would fall below three vertices", () => {
    const bump = [[0, 0], [0, 10], [5, 10], [10, 10], [10, 5], [12, 5], [10, 4], [10, 0]] as const;
    expect(ringSimplify(bump, 1.0)).toContainEqual([12, 5]);
    const sliver = [[0, 0], [0.2, 0.1], [0.4, 0], [0.2, -0.1]] as const;
    expect(ringSimplify(sliver, 1.0)).toEqual(sliver);
  });
});
