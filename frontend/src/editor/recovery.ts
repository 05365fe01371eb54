/**
 * Replaying a local draft against the server's current annotations when an image is opened. Pure: no I/O.
 *
 * - A defect the draft changed, whose server revision is still the one it was based on, is kept as drafted
 *   (sync saves it); a new drafted defect is created; a drafted delete is sent.
 * - If someone saved the same annotation meanwhile, nothing is overwritten: the server version is shown and the
 *   pair goes to the conflict view.
 * - Defects the draft did not change take the server's current version.
 */
import type { AnnotationOutput } from "../api/client";
import type { Draft, SavedBasis } from "../drafts/drafts";
import { type Defect, defectContentHash } from "../state/store";

export interface Conflict {
  readonly key: string;
  /** The user's version; null when the user deleted it. */
  readonly mine: Defect | null;
  /** The server's current version; null when someone deleted it. */
  readonly theirs: AnnotationOutput | null;
}

export interface Recovered {
  readonly defects: Defect[];
  readonly basis: Map<string, SavedBasis>;
  readonly conflicts: Conflict[];
  /** Unsaved local changes taken from the draft. */
  readonly replayed: number;
}

export function defectFromServer(annotation: AnnotationOutput, key = `s${annotation.id}`): Defect {
  return {
    key,
    defectClassId: annotation.defect_class_id,
    severityId: annotation.severity_id,
    geometry: annotation.geometry,
    source: annotation.source ?? "manual",
  };
}

export function basisFromServer(annotation: AnnotationOutput): SavedBasis {
  return { id: annotation.id, revision: annotation.revision ?? 1, hash: defectContentHash(defectFromServer(annotation)) };
}

export function draftRecover(server: readonly AnnotationOutput[], draft: Draft | null): Recovered {
  const defects: Defect[] = [];
  const basis = new Map<string, SavedBasis>();
  const conflicts: Conflict[] = [];
  let replayed = 0;
  const serverById = new Map(server.map((annotation) => [annotation.id, annotation]));
  const claimed = new Set<number>();
  const keepServer = (annotation: AnnotationOutput, key: string): void => {
    defects.push(defectFromServer(annotation, key));
    basis.set(key, basisFromServer(annotation));
  };
  if (draft) {
    for (const defect of draft.changed) {
      const saved = draft.basis[defect.key];
      if (!saved) {
        defects.push(defect); // created offline: sync creates it
        replayed += 1;
        continue;
      }
      claimed.add(saved.id);
      const current = serverById.get(saved.id) ?? null;
      if (saved.hash === defectContentHash(defect)) {
        if (current) keepServer(current, defect.key);
      } else if (current && (current.revision ?? 1) === saved.revision) {
        defects.push(defect);
        basis.set(defect.key, saved);
        replayed += 1;
      } else {
        if (current) keepServer(current, defect.key);
        conflicts.push({ key: defect.key, mine: defect, theirs: current });
      }
    }
    for (const [key, saved] of Object.entries(draft.deleted)) {
      claimed.add(saved.id);
      const current = serverById.get(saved.id);
      if (!current) continue; // deleted here and there: nothing to do
      if ((current.revision ?? 1) === saved.revision) {
        basis.set(key, saved); // deleted offline: sync sends the delete
        replayed += 1;
      } else {
        keepServer(current, key);
        conflicts.push({ key, mine: null, theirs: current });
      }
    }
  }
  for (const annotation of server) {
    if (!claimed.has(annotation.id)) keepServer(annotation, `s${annotation.id}`);
  }
  return { defects, basis, conflicts, replayed };
}
