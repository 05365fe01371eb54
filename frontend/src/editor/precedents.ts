/** Consensus decisions attached to defect classes (qa's precedents), shown under each class's description. Pure:
 *  grouping and links; panels.ts draws them. */
import type { Precedent } from "../api/client";

/** Precedents by defect class id, each class's in the server's order (newest decision first). */
export function precedentsByClass(precedents: readonly Precedent[]): Map<number, Precedent[]> {
  const byClass = new Map<number, Precedent[]>();
  for (const precedent of precedents) {
    const list = byClass.get(precedent.defect_class_id);
    if (list) list.push(precedent);
    else byClass.set(precedent.defect_class_id, [precedent]);
  }
  return byClass;
}

/** The editor page of the precedent's image, or null when the user may not open it (an inspector sees only the
 *  images assigned to them: the decision is shown without the link). */
export function precedentImageLink(precedent: Precedent): string | null {
  return precedent.can_open_image ? `/images/${precedent.image_id}/edit/` : null;
}
