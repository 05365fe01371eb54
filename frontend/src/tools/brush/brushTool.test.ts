import { describe, expect, it } from "vitest";
import { BRUSH_RADII_PX, brushRadiusStep } from "./brushTool";

describe("brushRadiusStep", () => {
  it("steps up and back down to the same radius", () => {
    for (const radius of BRUSH_RADII_PX.slice(0, -1)) {
      expect(brushRadiusStep(brushRadiusStep(radius, 1), -1)).toBe(radius);
    }
  });

  it("stays within the smallest and largest radius", () => {
    expect(brushRadiusStep(1, -1)).toBe(1);
    expect(brushRadiusStep(200, 1)).toBe(200);
  });

  it("moves a radius between steps to the neighbouring step", () => {
    expect(brushRadiusStep(7, 1)).toBe(8);
    expect(brushRadiusStep(7, -1)).toBe(6);
  });
});
