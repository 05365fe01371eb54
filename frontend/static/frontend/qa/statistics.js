// QA page plots as inline SVG (no chart library, no CDN): IoU per class, and agreement per day.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("qa-statistics").textContent);

  function node(name, attributes, text) {
    const element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function histogram(row) {
    const width = 220, height = 120, left = 24, bottom = 18, counts = row.iou_histogram;
    const most = Math.max(1, ...counts), barWidth = (width - left) / counts.length;
    const svg = node("svg", { viewBox: "0 0 " + width + " " + (height + 16), class: "plot", role: "img",
      "aria-label": "IoU of " + row.defect_class });
    svg.appendChild(node("text", { x: left, y: 12, class: "plot-title" }, row.defect_class + " (" + row.matched_pairs + " pairs)"));
    counts.forEach(function (count, index) {
      const barHeight = (height - bottom - 16) * count / most;
      const bar = node("rect", { x: left + index * barWidth + 1, y: height - bottom - barHeight, width: barWidth - 2,
        height: barHeight, class: "bar" });
      bar.appendChild(node("title", {}, (index / 10).toFixed(1) + "–" + ((index + 1) / 10).toFixed(1) + ": " + count));
      svg.appendChild(bar);
    });
    svg.appendChild(node("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
    [0, 0.5, 1].forEach(function (tick) {
      svg.appendChild(node("text", { x: left + tick * (width - left), y: height - 4, class: "tick", "text-anchor": "middle" }, String(tick)));
    });
    svg.appendChild(node("text", { x: 2, y: height - bottom, class: "tick" }, "0"));
    svg.appendChild(node("text", { x: 2, y: 28, class: "tick" }, String(most)));
    return svg;
  }

  function overTime(days) {
    const width = 460, height = 160, left = 32, bottom = 22, top = 10;
    const svg = node("svg", { viewBox: "0 0 " + width + " " + height, class: "plot", role: "img", "aria-label": "Agreement per day" });
    if (!days.length) {
      svg.appendChild(node("text", { x: left, y: height / 2, class: "tick" }, "No comparisons yet."));
      return svg;
    }
    const step = days.length > 1 ? (width - left - 10) / (days.length - 1) : 0;
    const y = function (rate) { return top + (1 - rate) * (height - top - bottom); };
    const points = days.map(function (day, index) { return [left + index * step, y(day.agreed / day.images)]; });
    [0, 0.5, 1].forEach(function (rate) {
      svg.appendChild(node("line", { x1: left, y1: y(rate), x2: width - 10, y2: y(rate), class: "grid" }));
      svg.appendChild(node("text", { x: 2, y: y(rate) + 4, class: "tick" }, String(rate)));
    });
    svg.appendChild(node("polyline", { points: points.map(function (p) { return p.join(","); }).join(" "), class: "line" }));
    days.forEach(function (day, index) {
      const dot = node("circle", { cx: points[index][0], cy: points[index][1], r: 3, class: "dot" });
      dot.appendChild(node("title", {}, day.day + ": " + day.agreed + " of " + day.images + " agreed"));
      svg.appendChild(dot);
    });
    svg.appendChild(node("text", { x: left, y: height - 4, class: "tick" }, days[0].day));
    svg.appendChild(node("text", { x: width - 10, y: height - 4, class: "tick", "text-anchor": "end" }, days[days.length - 1].day));
    return svg;
  }

  const histograms = document.getElementById("iou-histograms");
  data.classes.forEach(function (row) { histograms.appendChild(histogram(row)); });
  document.getElementById("agreement-over-time").appendChild(overTime(data.agreement_by_day));
})();
