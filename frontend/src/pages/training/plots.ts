/** The training pages' plots as inline SVG (no chart library), like the QA and assist pages': line plots of the
 *  training loss and the validation figures against the step, and bars of the per-class IoU. */

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 460;
const HEIGHT = 220;
const LEFT_PX = 44;
const RIGHT_PX = 10;
const TOP_PX = 22;
const BOTTOM_PX = 34;
const TICKS = 4;

export interface Series {
  readonly name: string;
  /** A CSS class that sets the stroke colour (training.css). */
  readonly kind: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Draw each point as a dot (few points: validations). */
  readonly hasDots?: boolean;
}

function node(name: string, attributes: Readonly<Record<string, string | number>>, text?: string): SVGElement {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function tickText(value: number): string {
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 100 ? value.toFixed(0) : size >= 1 ? value.toFixed(1) : value.toFixed(2);
}

/** Lines over a shared step axis. `yRange`: fixed (rates: [0, 1]); otherwise from the data, starting at 0. */
export function linePlot(title: string, series: readonly Series[], yRange?: readonly [number, number]): SVGElement {
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "plot line-plot", role: "img", "aria-label": title });
  svg.appendChild(node("text", { x: 0, y: 12, class: "plot-title" }, title));
  const points = series.flatMap((line) => line.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (!points.length) {
    svg.appendChild(node("text", { x: LEFT_PX, y: TOP_PX + 20, class: "tick" }, "No points yet."));
    return svg;
  }
  const xMax = Math.max(1, ...points.map(([x]) => x));
  const [yMin, yMax] = yRange ?? [0, Math.max(...points.map(([, y]) => y)) * 1.05 || 1];
  const plotWidth = WIDTH - LEFT_PX - RIGHT_PX;
  const plotHeight = HEIGHT - TOP_PX - BOTTOM_PX;
  const xOf = (x: number): number => LEFT_PX + (plotWidth * x) / xMax;
  const yOf = (y: number): number => TOP_PX + plotHeight * (1 - (y - yMin) / (yMax - yMin || 1));
  for (let index = 0; index <= TICKS; index += 1) {
    const value = yMin + ((yMax - yMin) * index) / TICKS;
    svg.appendChild(node("line", { x1: LEFT_PX, x2: WIDTH - RIGHT_PX, y1: yOf(value), y2: yOf(value), class: "grid" }));
    svg.appendChild(node("text", { x: LEFT_PX - 4, y: yOf(value) + 3, class: "tick", "text-anchor": "end" }, tickText(value)));
    const step = (xMax * index) / TICKS;
    svg.appendChild(node("text", { x: xOf(step), y: HEIGHT - BOTTOM_PX + 12, class: "tick", "text-anchor": "middle" }, Math.round(step).toString()));
  }
  svg.appendChild(node("text", { x: LEFT_PX + plotWidth / 2, y: HEIGHT - BOTTOM_PX + 24, class: "tick", "text-anchor": "middle" }, "step"));
  series.forEach((line, index) => {
    const finite = line.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (finite.length) {
      const path = finite.map(([x, y], at) => `${at ? "L" : "M"}${xOf(x).toFixed(1)},${yOf(y).toFixed(1)}`).join("");
      svg.appendChild(node("path", { d: path, class: `series ${line.kind}`, "data-points": finite.length }));
      if (line.hasDots) for (const [x, y] of finite) svg.appendChild(node("circle", { cx: xOf(x), cy: yOf(y), r: 2.5, class: `dot ${line.kind}` }));
    }
    const legendX = LEFT_PX + index * 130;
    svg.appendChild(node("line", { x1: legendX, x2: legendX + 14, y1: HEIGHT - 5, y2: HEIGHT - 5, class: `series ${line.kind}` }));
    svg.appendChild(node("text", { x: legendX + 18, y: HEIGHT - 2, class: "tick" }, line.name));
  });
  return svg;
}

const BAR_ROW_PX = 20;
const BAR_LABEL_PX = 110;

/** One bar a defect class: its IoU (0..1); a class with no IoU (neither truth nor prediction) shows "—". */
export function iouBars(title: string, perClass: Readonly<Record<string, number | null>>): SVGElement {
  const names = Object.keys(perClass);
  const height = 24 + BAR_ROW_PX * Math.max(names.length, 1);
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "plot iou-bars", role: "img", "aria-label": title });
  svg.appendChild(node("text", { x: 0, y: 12, class: "plot-title" }, title));
  const span = WIDTH - BAR_LABEL_PX - 50;
  names.forEach((name, index) => {
    const value = perClass[name] ?? null;
    const y = 20 + index * BAR_ROW_PX;
    svg.appendChild(node("text", { x: 0, y: y + 12, class: "tick" }, name));
    svg.appendChild(node("rect", { x: BAR_LABEL_PX, y, width: span * (value ?? 0), height: BAR_ROW_PX - 6, class: "iou-bar" }));
    svg.appendChild(node("text", { x: BAR_LABEL_PX + span * (value ?? 0) + 4, y: y + 12, class: "tick" }, value === null ? "—" : value.toFixed(3)));
  });
  return svg;
}
