/**
 * Minimum-size rules of the defect taxonomy, mirrored from annotation/rules.py (same checks, same wording) so
 * the editor marks a too-small defect while it is drawn. The server stays the authority at save.
 *
 * The limits' names come from the generated OpenAPI types (every `min_*` field of DefectClassOutput, declared
 * once in annotation/rules.py MinimumSize): a new or renamed limit reaches here through `npm run schema`, and
 * MINIMUM_SIZE_UNITS below stops compiling until it says what the limit measures.
 */
import type { components } from "../api/schema";
import type { Measurement } from "./measure";

type DefectClassOutput = components["schemas"]["DefectClassOutput"];

export type MinimumSizeField = Extract<keyof DefectClassOutput, `min_${string}`>;

/** Every limit of a defect class; null: no limit. */
export type MinimumSize = { readonly [Field in MinimumSizeField]: number | null };

export interface MinSizeRule extends MinimumSize {
  readonly isLinear: boolean;
}

/** What each limit measures and in which unit, in the server's order (MinimumSize.in_words). */
export const MINIMUM_SIZE_UNITS: { readonly [Field in MinimumSizeField]: readonly [dimension: string, unit: string] } = {
  min_length_px: ["length", "px"],
  min_width_px: ["width", "px"],
  min_height_px: ["height", "px"],
  min_area_px: ["area", "px²"],
  min_length_mm: ["length", "mm"],
  min_width_mm: ["width", "mm"],
  min_height_mm: ["height", "mm"],
  min_area_mm2: ["area", "mm²"],
};

export const MINIMUM_SIZE_FIELDS = Object.keys(MINIMUM_SIZE_UNITS) as readonly MinimumSizeField[];

/** The limits a defect class (or anything shaped like its API output) declares; absent counts as no limit. */
export function minimumSizeOf(source: { readonly [Field in MinimumSizeField]?: number | null }): MinimumSize {
  return Object.fromEntries(MINIMUM_SIZE_FIELDS.map((field) => [field, source[field] ?? null])) as MinimumSize;
}

/** The limits that are set, e.g. ["area ≥ 50 px²", "length ≥ 1.5 mm"] (annotation/rules.py says the same). */
export function minimumSizeInWords(minimum: MinimumSize): string[] {
  return MINIMUM_SIZE_FIELDS.flatMap((field) => {
    const value = minimum[field];
    const [dimension, unit] = MINIMUM_SIZE_UNITS[field];
    return value === null ? [] : [`${dimension} ≥ ${formatG(value)} ${unit}`];
  });
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
    for (const limit of [rule.min_length_px, toPx(rule.min_length_mm, pxPerMm)]) {
      if (limit !== null && measurement.lengthPx < limit) {
        reasons.push(`length ${describe(measurement.lengthPx, pxPerMm)} is below the minimum ${describe(limit, pxPerMm)}`);
      }
    }
    return reasons;
  }
  const pairs: Array<[number | null, number | null]> = [
    [rule.min_width_px, rule.min_height_px],
    [toPx(rule.min_width_mm, pxPerMm), toPx(rule.min_height_mm, pxPerMm)],
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
  const minAreaFromMm = rule.min_area_mm2 === null || !pxPerMm ? null : rule.min_area_mm2 * pxPerMm ** 2;
  for (const limit of [rule.min_area_px, minAreaFromMm]) {
    if (limit !== null && measurement.areaPx < limit) {
      reasons.push(`area ${describe(measurement.areaPx, pxPerMm, true)} is below the minimum ${describe(limit, pxPerMm, true)}`);
    }
  }
  return reasons;
}
