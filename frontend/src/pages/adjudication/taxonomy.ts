/** Naming A's and B's defects by the project's defect classes and severity levels, as the adjudication sent them. */
import type { AdjudicationDetail, QaDefectClass, QaSeverityLevel } from "../../api/client";

export interface Classified {
  readonly defect_class_id: number;
  readonly severity_id: number | null;
}

export function defectClassGet(view: AdjudicationDetail, defectClassId: number): QaDefectClass | undefined {
  return view.defect_classes.find((defectClass) => defectClass.id === defectClassId);
}

function severityLevel(view: AdjudicationDetail, defect: Classified): QaSeverityLevel | undefined {
  return defectClassGet(view, defect.defect_class_id)?.severity_levels.find((level) => level.id === defect.severity_id);
}

/** "crack (minor)"; "?" for a class the view does not know; "—" for no defect (a miss). */
export function defectDescribe(view: AdjudicationDetail, defect: Classified | undefined): string {
  if (!defect) return "—";
  const level = severityLevel(view, defect);
  return (defectClassGet(view, defect.defect_class_id)?.name ?? "?") + (level ? ` (${level.name})` : "");
}

/** The severity's rank (1 = least severe), or "—" when there is none. */
export function severityRank(view: AdjudicationDetail, defect: Classified | undefined): string {
  const level = defect && severityLevel(view, defect);
  return level ? String(level.rank) : "—";
}
