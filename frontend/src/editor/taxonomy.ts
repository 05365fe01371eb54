/** The project's defect taxonomy in the editor: class lookups, precedents, and each defect's live size check. */
import type { DefectClass, Precedent } from "../api/client";
import { type Measurement, measure } from "../model/measure";
import { type MinSizeRule, formatG, minSizeViolations, minimumSizeInWords, minimumSizeOf } from "../model/rules";
import type { Geometry } from "../model/types";
import type { Defect } from "../state/store";
import { precedentsByClass } from "./precedents";

export interface DefectCheck {
  readonly measurement: Measurement;
  readonly violations: readonly string[];
}

export function ruleOf(defectClass: DefectClass): MinSizeRule {
  return { isLinear: defectClass.geometry_kind === "linear", ...minimumSizeOf(defectClass) };
}

/** The class's minimum-size rule in words, e.g. "area ≥ 50 px²; length ≥ 1.5 mm". Empty when none. */
export function ruleText(defectClass: DefectClass): string {
  return minimumSizeInWords(minimumSizeOf(defectClass)).join("; ");
}

export class Taxonomy {
  readonly classes: readonly DefectClass[];
  private readonly byId: Map<number, DefectClass>;
  private readonly checks = new WeakMap<Geometry, Map<number, DefectCheck>>();
  private precedents = new Map<number, Precedent[]>();

  constructor(
    classes: readonly DefectClass[],
    readonly pxPerMm: number | null,
  ) {
    this.classes = [...classes].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.name.localeCompare(b.name));
    this.byId = new Map(classes.map((defectClass) => [defectClass.id, defectClass]));
  }

  /** Classes that take new defects, in picker order: keys 1-9 pick the first nine. */
  get active(): DefectClass[] {
    return this.classes.filter((defectClass) => defectClass.is_active !== false);
  }

  get(defectClassId: number): DefectClass | undefined {
    return this.byId.get(defectClassId);
  }

  /** Consensus decisions attached to the class (loaded after the image opens; none until then). */
  precedentsOf(defectClassId: number): readonly Precedent[] {
    return this.precedents.get(defectClassId) ?? [];
  }

  precedentsSet(precedents: readonly Precedent[]): void {
    this.precedents = precedentsByClass(precedents);
  }

  colorOf(defectClassId: number): string {
    return this.byId.get(defectClassId)?.color ?? "#e6194b";
  }

  /** Measurement and minimum-size violations, computed once per geometry and class. */
  check(defect: Defect): DefectCheck {
    let perClass = this.checks.get(defect.geometry);
    if (!perClass) {
      perClass = new Map();
      this.checks.set(defect.geometry, perClass);
    }
    let result = perClass.get(defect.defectClassId);
    if (!result) {
      const measurement = measure(defect.geometry.polygons);
      const defectClass = this.byId.get(defect.defectClassId);
      const violations = defectClass ? minSizeViolations(ruleOf(defectClass), measurement, this.pxPerMm) : [];
      result = { measurement, violations };
      perClass.set(defect.defectClassId, result);
    }
    return result;
  }

  /** "123 px² (1.23 mm²)": sizes in mm only when the project is calibrated. */
  area(valuePx: number): string {
    return this.pxPerMm ? `${formatG(valuePx)} px² (${formatG(valuePx / this.pxPerMm ** 2, 3)} mm²)` : `${formatG(valuePx)} px²`;
  }

  length(valuePx: number): string {
    return this.pxPerMm ? `${formatG(valuePx, 4)} px (${formatG(valuePx / this.pxPerMm, 3)} mm)` : `${formatG(valuePx, 4)} px`;
  }
}
