/**
 * Minimum-size rules of the defect taxonomy, mirrored from annotation/rules.py (same checks, same wording) so
 * the editor marks a too-small defect while it is drawn. The server stays the authority at save.
 */
import type { Measurement } from "./measure";

export interface MinSizeRule {
  readonly isLinear: boolean;
  readonly minLengthPx: number | null;
  readonly minWidthPx: number | null;
  readonly minHeightPx: number | null;
  readonly minAreaPx: number | null;
  readonly minLengthMm: number | null;
  readonly minWidthMm: number | null;
  readonly minHeightMm: number | null;
  readonly minAreaMm2: number | null;
}

/** Python's `format(value, "g")` / `".3g"`: significant digits, no trailing zeros, exponent when far out. */
export function formatG(value: number, precision = 6): string {
  if (value === 0) return "0";
  if (!Number.isFinite(value)) return String(value);
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa, power] = value.toExponential(precision - 1).split("e");
    const trimmed = mantissa!.includes(".") ? mantissa!.replace(/\.?0+$/, "") : mantissa!;
    const sign = power!.startsWith("-") ? "-" : "+";
    return `${trimmed}e${sign}${power!.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
}

function toPx(valueMm: number | null, pxPerMm: number | null): number | null {
  return valueMm === null || !pxPerMm ? null : valueMm * pxPerMm;
}

function describe(valuePx: number, pxPerMm: number | null, square = false): string {
  const unit = square ? "px²" : "px";
  if (!pxPerMm) return `${formatG(valuePx)} ${unit}`;
  const valueMm = valuePx / (square ? pxPerMm ** 2 : pxPerMm);
  return `${formatG(valuePx)} ${unit} (${formatG(valueMm, 3)} ${square ? "mm²" : "mm"})`;
}

/** Human-readable reasons the defect is below the rule; empty when it passes (annotation/rules.py). */
export function minSizeViolations(rule: MinSizeRule, measurement: Measurement, pxPerMm: number | null): string[] {
  const reasons: string[] = [];
  if (rule.isLinear) {
    for (const limit of [rule.minLengthPx, toPx(rule.minLengthMm, pxPerMm)]) {
      if (limit !== null && measurement.lengthPx < limit) {
        reasons.push(`length ${describe(measurement.lengthPx, pxPerMm)} is below the minimum ${describe(limit, pxPerMm)}`);
      }
    }
    return reasons;
  }
  const pairs: Array<[number | null, number | null]> = [
    [rule.minWidthPx, rule.minHeightPx],
    [toPx(rule.minWidthMm, pxPerMm), toPx(rule.minHeightMm, pxPerMm)],
  ];
  for (const [minWidth, minHeight] of pairs) {
    if (minWidth === null && minHeight === null) continue;
    const limits = [minWidth ?? 0, minHeight ?? 0].sort((a, b) => a - b);
    if (measurement.widthPx < limits[0]! || measurement.lengthPx < limits[1]!) {
      reasons.push(
        `size ${describe(measurement.widthPx, pxPerMm)} x ${describe(measurement.lengthPx, pxPerMm)} ` +
          `is below the minimum ${describe(minWidth ?? 0, pxPerMm)} x ${describe(minHeight ?? 0, pxPerMm)}`,
      );
    }
  }
  const minAreaFromMm = rule.minAreaMm2 === null || !pxPerMm ? null : rule.minAreaMm2 * pxPerMm ** 2;
  for (const limit of [rule.minAreaPx, minAreaFromMm]) {
    if (limit !== null && measurement.areaPx < limit) {
      reasons.push(`area ${describe(measurement.areaPx, pxPerMm, true)} is below the minimum ${describe(limit, pxPerMm, true)}`);
    }
  }
  return reasons;
}
