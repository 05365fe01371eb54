/** The side panel: class and severity pickers (with each class's precedents), the defect list with measurements
 *  and warnings, comments. */
import type { Comment, DefectClass, Precedent } from "../api/client";
import type { Defect, Snapshot } from "../state/store";
import { element } from "./dom";
import { precedentImageLink } from "./precedents";
import type { Refusal } from "./sync";
import { type Taxonomy, ruleText } from "./taxonomy";

/** A class's precedents under its description, folded; `open` keeps the classes unfolded across re-renders. */
function precedentsRender(defectClassId: number, precedents: readonly Precedent[], open: Set<number>): HTMLElement {
  const items = precedents.map((precedent) => {
    const link = precedentImageLink(precedent);
    return element(
      "li",
      { class: "precedent", "data-precedent-id": String(precedent.id) },
      element("span", { class: "decision" }, precedent.decision ?? ""),
      element("span", { class: "muted" }, precedent.decided_by ? ` (${precedent.decided_by})` : ""),
      " ",
      link
        ? element("a", { href: link, target: "_blank", rel: "noopener", class: "precedent-image" }, "open image")
        : element("span", { class: "muted" }, "image not in your queue"),
    );
  });
  const count = precedents.length;
  const details = element(
    "details",
    { class: "precedents small", "data-class-id": String(defectClassId) },
    element("summary", {}, `${count} precedent${count === 1 ? "" : "s"}`),
    element("ul", {}, ...items),
  );
  details.open = open.has(defectClassId);
  details.addEventListener("toggle", () => void (details.open ? open.add(defectClassId) : open.delete(defectClassId)));
  return details;
}

export function classPickerRender(
  container: HTMLElement,
  taxonomy: Taxonomy,
  currentId: number | null,
  pick: (id: number) => void,
  openPrecedents: Set<number> = new Set(),
): void {
  container.replaceChildren(
    ...taxonomy.active.map((defectClass, index) => {
      const rule = ruleText(defectClass);
      const button = element(
        "button",
        { type: "button", class: `class-choice${defectClass.id === currentId ? " active" : ""}`, "data-class-id": String(defectClass.id), title: defectClass.description ?? "" },
        element("kbd", {}, index < 9 ? String(index + 1) : " "),
        element("span", { class: "swatch", style: `background:${defectClass.color}` }),
        element("span", { class: "name" }, defectClass.name),
        element("span", { class: "kind" }, defectClass.geometry_kind === "linear" ? "linear" : "area"),
      );
      if (defectClass.description || rule) {
        button.append(element("span", { class: "description" }, [defectClass.description, rule && `Minimum: ${rule}`].filter(Boolean).join(" · ")));
      }
      button.addEventListener("click", () => pick(defectClass.id));
      const precedents = taxonomy.precedentsOf(defectClass.id);
      if (!precedents.length) return button;
      return element("div", { class: "class-entry" }, button, precedentsRender(defectClass.id, precedents, openPrecedents));
    }),
  );
}

export function severityPickerRender(container: HTMLElement, defectClass: DefectClass | undefined, currentId: number | null, pick: (id: number | null) => void): void {
  const levels = defectClass?.severity_levels ?? [];
  if (!levels.length) {
    container.replaceChildren(element("p", { class: "muted small" }, "No severity levels for this class."));
    return;
  }
  container.replaceChildren(
    ...levels.map((level) => {
      const button = element(
        "button",
        { type: "button", class: `severity-choice${level.id === currentId ? " active" : ""}`, "data-severity-id": String(level.id), title: level.criterion ?? "" },
        element("kbd", {}, `⇧${level.rank}`),
        ` ${level.name}`,
      );
      button.addEventListener("click", () => pick(level.id === currentId ? null : level.id));
      return button;
    }),
  );
}

export interface DefectRowState {
  readonly refusal: Refusal | undefined;
  readonly isUnsaved: boolean;
  readonly isConflicted: boolean;
}

export function defectListRender(
  container: HTMLElement,
  snapshot: Snapshot,
  taxonomy: Taxonomy,
  stateOf: (defect: Defect) => DefectRowState,
  select: (key: string, additive: boolean) => void,
): void {
  const defects = [...snapshot.defects.values()];
  if (!defects.length) {
    container.replaceChildren(element("p", { class: "muted small" }, "No defects drawn on this image."));
    return;
  }
  // Long lists (thousands of defects) stay cheap: only the first rows are built; the count says how many.
  const LIST_LIMIT = 100;
  const rows = defects.slice(0, LIST_LIMIT).map((defect, index) => {
    const defectClass = taxonomy.get(defect.defectClassId);
    const severity = defectClass?.severity_levels.find((level) => level.id === defect.severityId);
    const check = taxonomy.check(defect);
    const { measurement } = check;
    const state = stateOf(defect);
    const size =
      defectClass?.geometry_kind === "linear"
        ? `length ${taxonomy.length(measurement.lengthPx)}`
        : `${taxonomy.area(measurement.areaPx)}; ${taxonomy.length(measurement.lengthPx)} × ${taxonomy.length(measurement.widthPx)}`;
    const row = element(
      "li",
      { class: `defect-row${snapshot.selection.has(defect.key) ? " selected" : ""}`, "data-key": defect.key },
      element("span", { class: "swatch", style: `background:${taxonomy.colorOf(defect.defectClassId)}` }),
      element("strong", {}, `${index + 1}. ${defectClass?.name ?? "?"}`),
      element("span", { class: "muted" }, severity ? ` · ${severity.name}` : " · no severity"),
      element("div", { class: "measure small" }, size),
      element("div", { class: "measure small muted" }, `bbox ${measurement.bbox.x}, ${measurement.bbox.y}, ${measurement.bbox.width} × ${measurement.bbox.height} px`),
    );
    if (check.violations.length) {
      row.append(element("div", { class: "too-small small" }, `Too small (${ruleText(defectClass!)}): ${check.violations.join("; ")}`));
    }
    if (state.refusal) {
      row.append(element("div", { class: "refused small", role: "alert" }, `Not saved: ${state.refusal.message}`));
    } else if (state.isConflicted) {
      row.append(element("div", { class: "refused small" }, "Someone else changed this defect: choose a version."));
    } else if (state.isUnsaved) {
      row.append(element("div", { class: "muted small" }, "saving…"));
    }
    row.addEventListener("click", (event) => select(defect.key, event.shiftKey));
    return row;
  });
  const list = element("ol", { class: "defects" }, ...rows);
  const extra = defects.length > LIST_LIMIT ? [element("p", { class: "muted small" }, `…and ${defects.length - LIST_LIMIT} more`)] : [];
  container.replaceChildren(element("p", { class: "small muted" }, `${defects.length} defect(s)`), list, ...extra);
}

export function commentsRender(container: HTMLElement, comments: readonly Comment[]): void {
  if (!comments.length) {
    container.replaceChildren(element("p", { class: "muted small" }, "No comments yet."));
    return;
  }
  container.replaceChildren(
    ...comments.map((comment) =>
      element(
        "div",
        { class: "comment" },
        element("strong", {}, comment.author ?? "someone"),
        element("span", { class: "muted small" }, ` ${new Date(comment.created_at).toLocaleString()}`),
        element("p", {}, comment.text),
      ),
    ),
  );
}
