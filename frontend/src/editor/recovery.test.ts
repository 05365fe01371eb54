import { describe, expect, it } from "vitest";
import type { AnnotationOutput } from "../api/client";
import type { Draft } from "../drafts/drafts";
import { type Defect, Store, defectContentHash } from "../state/store";
import type { Geometry } from "../model/types";
import { draftRecover } from "./recovery";

const square: Geometry = { polygons: [{ exterior: [[0, 0], [4, 0], [4, 4], [0, 4]], holes: [] }] };
const moved: Geometry = { polygons: [{ exterior: [[1, 0], [5, 0], [5, 4], [1, 4]], holes: [] }] };

function annotation(id: number, revision: number, geometry = square): AnnotationOutput {
  return {
    id, image_id: 1, defect_class_id: 7, severity_id: null, geometry, area_px: 25, bbox: [0, 0, 5, 5],
    source: "manual", provenance: null, author_id: 1, is_final: false, revision, created_at: "", updated_at: "",
  };
}

function defect(key: string, geometry = square): Defect {
  return { key, defectClassId: 7, severityId: null, geometry, source: "manual" };
}

function draft(parts: Partial<Draft>): Draft {
  return { imageId: 1, userId: 1, changed: [], basis: {}, deleted: {}, savedAt: "", ...parts };
}

describe("replaying a local draft", () => {
  it("keeps an unsaved change whose server revision is unchanged, and creates offline drawings", () => {
    // given
    const basis = { id: 5, revision: 2, hash: defectContentHash(defect("s5")) };
    const local = draft({ changed: [defect("s5", moved), defect("n1")], basis: { s5: basis } });
    // when
    const recovered = draftRecover([annotation(5, 2)], local);
    // then
    expect(recovered.defects.map((item) => [item.key, item.geometry])).toEqual([["s5", moved], ["n1", square]]);
    expect(recovered.basis.get("s5")).toEqual(basis);
    expect(recovered.basis.has("n1")).toBe(false);
    expect(recovered.replayed).toBe(2);
    expect(recovered.conflicts).toEqual([]);
  });

  it("never overwrites a newer server version: both go to the conflict view", () => {
    const local = draft({ changed: [defect("s5", moved)], basis: { s5: { id: 5, revision: 2, hash: defectContentHash(defect("s5")) } } });
    const recovered = draftRecover([annotation(5, 3)], local);
    expect(recovered.defects[0]!.geometry).toEqual(square); // the server's, until the user chooses
    expect(recovered.conflicts).toEqual([{ key: "s5", mine: defect("s5", moved), theirs: annotation(5, 3) }]);
  });

  it("sends an offline delete only against the revision it saw", () => {
    const local = draft({ deleted: { s5: { id: 5, revision: 2, hash: "" } } });
    const recovered = draftRecover([annotation(5, 2), annotation(6, 1)], local);
    expect(recovered.defects.map((item) => item.key)).toEqual(["s6"]);
    expect(recovered.basis.get("s5")?.revision).toBe(2); // in the basis, not in the document: sync deletes it
  });
});

describe("undo and redo", () => {
  it("walks immutable snapshots across every kind of edit", () => {
    const store = new Store([defect("a")]);
    store.edit((defects) => void defects.set("b", defect("b")));
    store.edit((defects) => void defects.set("a", defect("a", moved)));
    store.edit((defects) => void defects.delete("b"));
    expect([...store.snapshot.defects.keys()]).toEqual(["a"]);
    store.undo();
    store.undo();
    expect(store.snapshot.defects.get("a")!.geometry).toEqual(square);
    expect([...store.snapshot.defects.keys()]).toEqual(["a", "b"]);
    store.redo();
    expect(store.snapshot.defects.get("a")!.geometry).toEqual(moved);
    store.edit((defects) => void defects.delete("a"));
    expect(store.canRedo).toBe(false);
  });
});
