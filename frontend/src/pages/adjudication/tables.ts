/** The adjudication's tables: the matched pairs, the per-defect choice, and the reviewer's later edits. */
import type { Adjudication, AdjudicationDetail, QaAnnotation } from "../../api/client";
import { element } from "../../editor/dom";
import {
  type Choices,
  SIDES,
  type Side,
  choiceKey,
  choicesClassify,
  choicesKeep,
  decisionKind,
  defectClassification,
} from "./choices";
import { defectClassGet, defectDescribe, severityRank } from "./taxonomy";

function textRow(texts: readonly string[], attributes: Record<string, string> = {}): HTMLTableRowElement {
  return element("tr", attributes, ...texts.map((text) => element("td", {}, text)));
}

/** One row per match or miss: A's and B's defect, IoU against its threshold, severity ranks, the verdict. */
export function pairsRender(body: HTMLElement, view: AdjudicationDetail): void {
  const byId = new Map<number, QaAnnotation>([...view.first, ...view.second].map((annotation) => [annotation.id, annotation]));
  const annotation = (id: number | null): QaAnnotation | undefined => (id === null ? undefined : byId.get(id));
  body.replaceChildren(
    ...view.matches.map((match) => {
      const first = annotation(match.first_annotation_id);
      const second = annotation(match.second_annotation_id);
      return textRow(
        [
          defectDescribe(view, first),
          defectDescribe(view, second),
          match.is_matched ? `${match.iou.toFixed(3)} (≥ ${match.iou_threshold})` : "—",
          `${severityRank(view, first)} / ${severityRank(view, second)}`,
          match.is_agreed ? "agree" : match.reasons.join(", "),
        ],
        { class: match.is_agreed ? "agreed" : "disagreed" },
      );
    }),
  );
}

function option(value: number | null, text: string, isSelected: boolean): HTMLOptionElement {
  const choice = element("option", { value: value === null ? "" : String(value) }, text);
  choice.selected = isSelected;
  return choice;
}

/** Keep, class and severity controls for one of A's or B's defects; each change gives new Choices. */
function choiceRow(
  view: AdjudicationDetail,
  choices: Choices,
  side: Side,
  label: string,
  annotation: QaAnnotation,
  onChange: (next: Choices) => void,
): HTMLTableRowElement {
  const key = choiceKey(side, annotation);
  const { defect_class_id: classId, severity_id: severityId } = defectClassification(choices, annotation);
  const keep = element("input", { type: "checkbox", "aria-label": `Keep ${label}` });
  keep.checked = choices.keep.has(key);
  keep.addEventListener("change", () => onChange(choicesKeep(choices, key, keep.checked)));
  // Retired classes are offered only where the defect already has one.
  const classes = view.defect_classes.filter((defectClass) => defectClass.is_active || defectClass.id === classId);
  const classSelect = element("select", {}, ...classes.map((c) => option(c.id, c.name, c.id === classId)));
  classSelect.addEventListener("change", () =>
    onChange(choicesClassify(choices, annotation, { defect_class_id: Number(classSelect.value), severity_id: null })),
  );
  const levels = defectClassGet(view, classId)?.severity_levels ?? [];
  const severitySelect = element(
    "select",
    {},
    option(null, "no severity", severityId === null),
    ...levels.map((level) => option(level.id, `${level.rank}. ${level.name}`, level.id === severityId)),
  );
  severitySelect.addEventListener("change", () => {
    const severity = severitySelect.value === "" ? null : Number(severitySelect.value);
    onChange(choicesClassify(choices, annotation, { defect_class_id: classId, severity_id: severity }));
  });
  const cells = [keep, `${label} · ${Math.round(annotation.area_px)} px²`, classSelect, severitySelect];
  return element("tr", { "data-choice": key }, ...cells.map((content) => element("td", {}, content)));
}

/** The choice table (A1, A2, ... B1, ...) and the decision it amounts to. */
export function choicesRender(
  body: HTMLElement,
  kind: HTMLElement,
  view: AdjudicationDetail,
  choices: Choices,
  onChange: (next: Choices) => void,
): void {
  body.replaceChildren(
    ...SIDES.flatMap(([side, letter]) =>
      view[side].map((annotation, index) => choiceRow(view, choices, side, `${letter}${index + 1}`, annotation, onChange)),
    ),
  );
  kind.textContent = `Decision: ${decisionKind(view, choices).replace("_", " ")}`;
}

/** The edits a reviewer made to the final annotations in the editor after the decision. */
export function reviewerEditsRender(container: HTMLElement, adjudication: Adjudication): void {
  const edits = adjudication.reviewer_edits ?? [];
  if (!edits.length) {
    container.replaceChildren();
    return;
  }
  const rows = edits.map((edit) =>
    textRow([new Date(edit.edited_at).toLocaleString(), `final defect ${edit.final_annotation_id}`, edit.changes.join(", ")]),
  );
  container.replaceChildren(
    element("h2", {}, `Edited in the editor since the decision (${edits.length})`),
    element("table", { id: "reviewer-edit-list" }, element("tbody", {}, ...rows)),
  );
}
