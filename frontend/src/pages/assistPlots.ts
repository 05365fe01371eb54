/** The project page's assist plots as inline SVG (no chart library), like the QA page's: what became of the
 *  suggestions (kept unchanged, edited, deleted) per engine or class, and time per image with and without. */
import type { AssistGroupRow, AssistStatistics, AssistTimeSummary } from "../api/client";

const SVG = "http://www.w3.org/2000/svg";
const OUTCOMES = [
  ["unchanged", "kept unchanged", "outcome-unchanged"],
  ["edited", "edited", "outcome-edited"],
  ["deleted", "deleted", "outcome-deleted"],
] as const;

function node(name: string, attributes: Readonly<Record<string, string | number>>, text?: string): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

const ROW_PX = 22;
const LABEL_PX = 130;
const WIDTH = 460;

/** One stacked bar a row: the share of its suggestions kept unchanged, edited and deleted. */
export function outcomePlot(rows: ReadonlyArray<{ readonly name: string; readonly row: AssistGroupRow }>, title: string): SVGElement {
  const height = 24 + ROW_PX * Math.max(rows.length, 1) + 18;
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "plot", role: "img", "aria-label": title });
  svg.appendChild(node("text", { x: 0, y: 12, class: "plot-title" }, title));
  if (!rows.length) svg.appendChild(node("text", { x: 0, y: 34, class: "tick" }, "No settled suggestions yet."));
  const span = WIDTH - LABEL_PX - 10;
  rows.forEach(({ name, row }, index) => {
    const y = 22 + index * ROW_PX;
    svg.appendChild(node("text", { x: 0, y: y + 13, class: "tick" }, `${name} (${row.suggestions})`));
    let x = LABEL_PX;
    for (const [key, label, kind] of OUTCOMES) {
      const count = row[key];
      const width = row.suggestions ? (span * count) / row.suggestions : 0;
      const bar = node("rect", { x, y, width, height: ROW_PX - 6, class: kind });
      bar.appendChild(node("title", {}, `${name}: ${count} ${label}`));
      svg.appendChild(bar);
      x += width;
    }
  });
  const legendY = height - 4;
  OUTCOMES.forEach(([, label, kind], index) => {
    svg.appendChild(node("rect", { x: LABEL_PX + index * 110, y: legendY - 9, width: 10, height: 10, class: kind }));
    svg.appendChild(node("text", { x: LABEL_PX + index * 110 + 14, y: legendY, class: "tick" }, label));
  });
  return svg;
}

function seconds(summary: AssistTimeSummary): string {
  return summary.median_seconds === null ? "—" : `${Math.round(summary.median_seconds)} s`;
}

/** Median seconds per image: without the assist, with it, and with each engine. */
export function timePlot(time: AssistStatistics["time_per_image"]): SVGElement {
  const rows: Array<[string, AssistTimeSummary, string]> = [
    ["without assist", time.without_assist, "time-without"],
    ["with assist", time.with_assist, "time-with"],
    ...time.by_engine.map((row): [string, AssistTimeSummary, string] => [`with ${row.engine}`, row, "time-with"]),
  ];
  const height = 24 + ROW_PX * rows.length;
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "plot", role: "img", "aria-label": "Time per image" });
  svg.appendChild(node("text", { x: 0, y: 12, class: "plot-title" }, "Median time per image, opening to submission"));
  const longest = Math.max(1, ...rows.map(([, summary]) => summary.median_seconds ?? 0));
  const span = WIDTH - LABEL_PX - 70;
  rows.forEach(([name, summary, kind], index) => {
    const y = 22 + index * ROW_PX;
    svg.appendChild(node("text", { x: 0, y: y + 13, class: "tick" }, `${name} (${summary.images})`));
    const width = (span * (summary.median_seconds ?? 0)) / longest;
    const bar = node("rect", { x: LABEL_PX, y, width, height: ROW_PX - 6, class: kind });
    bar.appendChild(node("title", {}, `${name}: median ${seconds(summary)} over ${summary.images} images`));
    svg.appendChild(bar);
    svg.appendChild(node("text", { x: LABEL_PX + width + 4, y: y + 13, class: "tick" }, seconds(summary)));
  });
  return svg;
}
