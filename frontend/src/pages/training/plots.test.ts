// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { iouBars, linePlot } from "./plots";

describe("linePlot", () => {
  it("draws one path per series with its points, scaled into the plot", () => {
    const svg = linePlot("Training loss", [
      { name: "loss", kind: "series-loss", points: [[1, 2], [2, 1], [4, 0.5]] },
      { name: "at validation", kind: "series-validation-loss", points: [[4, 0.6]], hasDots: true },
    ]);
    const paths = svg.querySelectorAll("path.series");
    expect([...paths].map((path) => path.getAttribute("data-points"))).toEqual(["3", "1"]);
    // x: step 4 at the right edge (460 - 10 px), step 1 a quarter along; y: 0 at 186 px, the top 5 % above 2
    expect(paths[0]?.getAttribute("d")).toBe("M145.5,29.8L247.0,107.9L450.0,147.0");
    expect(svg.querySelectorAll("circle.dot")).toHaveLength(1);
  });

  it("says so when there is nothing to draw, and skips points that are not numbers", () => {
    expect(linePlot("Validation", [{ name: "IoU", kind: "series-iou", points: [] }], [0, 1]).textContent).toContain("No points yet.");
    const svg = linePlot("Validation", [{ name: "IoU", kind: "series-iou", points: [[1, Number.NaN], [2, 0.5]] }], [0, 1]);
    expect(svg.querySelector("path.series")?.getAttribute("data-points")).toBe("1");
  });
});

describe("iouBars", () => {
  it("draws a bar per class, its width the IoU, and a dash for a class without one", () => {
    const svg = iouBars("Per-class IoU", { crack: 0.5, fray: null });
    const bars = svg.querySelectorAll("rect.iou-bar");
    expect([...bars].map((bar) => bar.getAttribute("width"))).toEqual(["150", "0"]);
    expect(svg.textContent).toContain("0.500");
    expect(svg.textContent).toContain("—");
  });
});
