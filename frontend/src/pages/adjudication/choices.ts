/**
 * The adjudicator's choice, as plain data: which of A's and B's defects to keep, any class or severity changed
 * on them, or a whole side taken ("Take A"). Picking or changing anything after "Take A" makes it a per-defect
 * choice again. Pure functions: the page re-renders from the value they return.
 */
import type { AdjudicationDecideInput, AdjudicationDetail, DefectChoice, QaAnnotation } from "../../api/client";

export type Side = "first" | "second";
/** Each side with the letter the page calls it by. */
export const SIDES: ReadonlyArray<readonly [Side, string]> = [
  ["first", "A"],
  ["second", "B"],
];

/** A class (and severity) the adjudicator set on a kept defect; the severity resets when the class changes. */
export interface DefectEdit {
  readonly defect_class_id: number;
  readonly severity_id: number | null;
}

export interface Choices {
  /** choiceKey()s of the kept defects. */
  readonly keep: ReadonlySet<string>;
  /** By annotation id. */
  readonly edits: ReadonlyMap<number, DefectEdit>;
  /** The side taken whole, until the next pick or change. */
  readonly taken: Side | null;
}

export const CHOICES_NONE: Choices = { keep: new Set(), edits: new Map(), taken: null };

/** A defect's key in `Choices.keep`: its side and annotation id ("first:12"). */
export function choiceKey(side: Side, annotation: QaAnnotation): string {
  return `${side}:${annotation.id}`;
}

export function choicesTake(view: AdjudicationDetail, side: Side): Choices {
  return { keep: new Set(view[side].map((annotation) => choiceKey(side, annotation))), edits: new Map(), taken: side };
}

export function choicesKeep(choices: Choices, key: string, isKept: boolean): Choices {
  const keep = new Set(choices.keep);
  if (isKept) keep.add(key);
  else keep.delete(key);
  return { ...choices, keep, taken: null };
}

/** The defect's class and severity as they will be decided: the adjudicator's edit, else the annotator's. */
export function defectClassification(choices: Choices, annotation: QaAnnotation): DefectEdit {
  return (
    choices.edits.get(annotation.id) ?? {
      defect_class_id: annotation.defect_class_id,
      severity_id: annotation.severity_id,
    }
  );
}

export function choicesClassify(choices: Choices, annotation: QaAnnotation, edit: DefectEdit): Choices {
  return { ...choices, edits: new Map(choices.edits).set(annotation.id, edit), taken: null };
}

function isEdited(choices: Choices, annotation: QaAnnotation): boolean {
  const edit = choices.edits.get(annotation.id);
  return edit !== undefined && (edit.defect_class_id !== annotation.defect_class_id || edit.severity_id !== annotation.severity_id);
}

/** The kept defects, A's then B's, with the class and severity only where the adjudicator changed them. */
export function keptDefects(view: AdjudicationDetail, choices: Choices): { isEdited: boolean; defects: DefectChoice[] } {
  const defects: DefectChoice[] = [];
  let edited = false;
  for (const [side] of SIDES) {
    for (const annotation of view[side]) {
      if (!choices.keep.has(choiceKey(side, annotation))) continue;
      if (isEdited(choices, annotation)) {
        edited = true;
        defects.push({ annotation_id: annotation.id, ...choices.edits.get(annotation.id) });
      } else {
        defects.push({ annotation_id: annotation.id });
      }
    }
  }
  return { isEdited: edited, defects };
}

/** The decision the choices amount to: a side taken, or per defect ("edited" once a class or severity changed). */
export function decisionKind(view: AdjudicationDetail, choices: Choices): AdjudicationDecideInput["decision"] {
  if (choices.taken) return choices.taken;
  return keptDefects(view, choices).isEdited ? "edited" : "per_defect";
}

/**
 * The body to send. `andEdit` ("Save and edit outlines in the editor"): the kept defects become an `edited`
 * decision whatever was chosen, so the senior can change their outlines on the final annotations.
 */
export function decisionBody(view: AdjudicationDetail, choices: Choices, reason: string, andEdit: boolean): AdjudicationDecideInput {
  if (andEdit) return { decision: "edited", defects: keptDefects(view, choices).defects, reason };
  const decision = decisionKind(view, choices);
  if (decision === "first" || decision === "second") return { decision, reason };
  return { decision, defects: keptDefects(view, choices).defects, reason };
}
