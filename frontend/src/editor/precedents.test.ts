import { describe, expect, it } from "vitest";
import type { Precedent } from "../api/client";
import { precedentImageLink, precedentsByClass } from "./precedents";

function precedent(id: number, defectClassId: number, canOpenImage: boolean): Precedent {
  return {
    id,
    defect_class_id: defectClassId,
    defect_class: `class ${defectClassId}`,
    image_id: 100 + id,
    can_open_image: canOpenImage,
    note: "crack or glaze line?",
    decision: `decision ${id}`,
    decided_by: "senior",
    decided_at: "2026-01-01T00:00:00Z",
  };
}

describe("precedents", () => {
  it("groups by defect class and keeps the server's order within a class", () => {
    const byClass = precedentsByClass([precedent(3, 1, true), precedent(1, 2, true), precedent(2, 1, false)]);
    expect([...byClass.keys()]).toEqual([1, 2]);
    expect(byClass.get(1)?.map((item) => item.id)).toEqual([3, 2]);
    expect(byClass.get(2)?.map((item) => item.id)).toEqual([1]);
  });

  it("links to the image only when the user may open it", () => {
    expect(precedentImageLink(precedent(1, 1, true))).toBe("/images/101/edit/");
    expect(precedentImageLink(precedent(2, 1, false))).toBeNull();
  });
});
