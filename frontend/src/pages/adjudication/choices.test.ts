import { describe, expect, it } from "vitest";
import type { AdjudicationDetail, QaAnnotation } from "../../api/client";
import { CHOICES_NONE, choicesClassify, choicesKeep, choicesTake, decisionBody, decisionKind } from "./choices";

function annotation(id: number, defectClassId = 1, severityId: number | null = null): QaAnnotation {
  const geometry = { polygons: [{ exterior: [[0, 0], [4, 0], [4, 4]] as const, holes: [] }] };
  return { id, defect_class_id: defectClassId, severity_id: severityId, geometry, area_px: 12, bbox: [0, 0, 5, 5], author_id: 1 };
}

const view = {
  first: [annotation(11), annotation(12)],
  second: [annotation(21, 1, 5)],
  matches: [],
  difference: { width: 1, height: 1, only_first: [1], only_second: [1], both: [1] },
  defect_classes: [],
} as unknown as AdjudicationDetail;

describe("the adjudicator's choice", () => {
  it("takes a side whole, sent without defects", () => {
    const choices = choicesTake(view, "second");
    expect(decisionKind(view, choices)).toBe("second");
    expect(decisionBody(view, choices, "B is right", false)).toEqual({ decision: "second", reason: "B is right" });
  });

  it("becomes per defect when a defect is picked after taking a side", () => {
    const choices = choicesKeep(choicesTake(view, "first"), "second:21", true);
    expect(decisionBody(view, choices, "both halves", false)).toEqual({
      decision: "per_defect",
      defects: [{ annotation_id: 11 }, { annotation_id: 12 }, { annotation_id: 21 }],
      reason: "both halves",
    });
  });

  it("is edited once a kept defect's class or severity changes, and sends the change", () => {
    // given
    const kept = choicesKeep(CHOICES_NONE, "first:12", true);
    // when
    const changed = choicesClassify(kept, annotation(12), { defect_class_id: 2, severity_id: 7 });
    // then
    expect(decisionBody(view, changed, "a scratch", false)).toEqual({
      decision: "edited",
      defects: [{ annotation_id: 12, defect_class_id: 2, severity_id: 7 }],
      reason: "a scratch",
    });
  });

  it("ignores a change that puts back the annotator's own class and severity", () => {
    const kept = choicesKeep(CHOICES_NONE, "second:21", true);
    const same = choicesClassify(kept, annotation(21, 1, 5), { defect_class_id: 1, severity_id: 5 });
    expect(decisionKind(view, same)).toBe("per_defect");
  });

  it("records a taken side's defects as an edited decision for 'Save and edit'", () => {
    expect(decisionBody(view, choicesTake(view, "first"), "fix outlines", true)).toEqual({
      decision: "edited",
      defects: [{ annotation_id: 11 }, { annotation_id: 12 }],
      reason: "fix outlines",
    });
  });
});
