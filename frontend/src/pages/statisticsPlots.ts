/** The QA page's plots as inline SVG (no chart library, no CDN): IoU per class, and agreement per day. */
import type { QaStatistics } from "../api/client";

const SVG = "http://www.w3.org/2000/svg";

type ClassRow = QaStatistics["classes"][number];
type Day = QaStatistics["agreement_by_day"][number];

function node(name: string, attributes: Readonly<Record<string, string | number>>, text?: string): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Matched pairs per IoU tenth for one defect class; sizes are viewBox units. */
export function iouHistogram(row: ClassRow): SVGElement {
  const width = 220;
  const height = 120;
  const left = 24;
  const bottom = 18;
  const counts = row.iou_histogram;
  const most = Math.max(1, ...counts);
  const barWidth = (width - left) / counts.length;
  const svg = node("svg", {
    viewBox: `0 0 ${width} ${height + 16}`,
    class: "plot",
    role: "img",
    "aria-label": `IoU of ${row.defect_class}`,
  });
  svg.appendChild(node("text", { x: left, y: 12, class: "plot-title" }, `${row.defect_class} (${row.matched_pairs} pairs)`));
  counts.forEach((count, index) => {
    const barHeight = ((height - bottom - 16) * count) / most;
    const bar = node("rect", {
      x: left + index * barWidth + 1,
      y: height - bottom - barHeight,
      width: barWidth - 2,
      height: barHeight,
      class: "bar",
    });
    bar.appendChild(node("title", {}, `${(index / 10).toFixed(1)}–${((index + 1) / 10).toFixed(1)}: ${count}`));
    svg.appendChild(bar);
  });
  svg.appendChild(node("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
  for (const tick of [0, 0.5, 1]) {
    svg.appendChild(
      node("text", { x: left + tick * (width - left), y: height - 4, class: "tick", "text-anchor": "middle" }, String(tick)),
    );
  }
  svg.appendChild(node("text", { x: 2, y: height - bottom, class: "tick" }, "0"));
  svg.appendChild(node("text", { x: 2, y: 28, class: "tick" }, String(most)));
  return svg;
}

/** The share of compared images that agreed, per day, as a line with a dot a day. */
export function agreementOverTime(days: readonly Day[]): SVGElement {
  const width = 460;
  const height = 160;
  const left = 32;
  const bottom = 22;
  const top = 10;
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, class: "plot", role: "img", "aria-label": "Agreement per day" });
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last) {
    svg.appendChild(node("text", { x: left, y: height / 2, class: "tick" }, "No comparisons yet."));
    return svg;
  }
  const step = days.length > 1 ? (width - left - 10) / (days.length - 1) : 0;
  const y = (rate: number): number => top + (1 - rate) * (height - top - bottom);
  const points = days.map((day, index): [number, number] => [left + index * step, y(day.agreed / day.images)]);
  for (const rate of [0, 0.5, 1]) {
    svg.appendChild(node("line", { x1: left, y1: y(rate), x2: width - 10, y2: y(rate), class: "grid" }));
    svg.appendChild(node("text", { x: 2, y: y(rate) + 4, class: "tick" }, String(rate)));
  }
  svg.appendChild(node("polyline", { points: points.map((point) => point.join(",")).join(" "), class: "line" }));
  days.forEach((day, index) => {
    const [cx, cy] = points[index]!;
    const dot = node("circle", { cx, cy, r: 3, class: "dot" });
    dot.appendChild(node("title", {}, `${day.day}: ${day.agreed} of ${day.images} agreed`));
    svg.appendChild(dot);
  });
  svg.appendChild(node("text", { x: left, y: height - 4, class: "tick" }, first.day));
  svg.appendChild(node("text", { x: width - 10, y: height - 4, class: "tick", "text-anchor": "end" }, last.day));
  return svg;
}
