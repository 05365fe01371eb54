/** "Flag as edge case" (Q): a dialog for an optional note. The page sends it to qa's edge-case API; seniors
 *  decide the image in consensus review, and a decision may become a precedent of a class. */
import { element } from "./dom";

export const EDGE_CASE_NOTE_MAX_CHARS = 5000; // as qa's EdgeCaseFlagApi accepts

export function edgeCaseDialogShow(dialog: HTMLDialogElement, flag: (note: string) => Promise<void>): void {
  const note = element("textarea", {
    id: "edge-case-note",
    rows: "3",
    maxlength: String(EDGE_CASE_NOTE_MAX_CHARS),
    placeholder: "What makes it hard to call? (optional)",
  });
  const send = element("button", { type: "button", id: "edge-case-send" }, "Flag");
  const cancel = element("button", { type: "button", class: "secondary" }, "Cancel");
  cancel.addEventListener("click", () => dialog.close());
  send.addEventListener("click", () => {
    send.disabled = true;
    void flag(note.value.trim()).finally(() => dialog.close());
  });
  dialog.replaceChildren(
    element("h2", {}, "Flag as an edge case"),
    element("p", { class: "small muted" }, "Seniors decide hard calls in consensus review; a decision may become a precedent shown with its class."),
    note,
    element("div", { class: "conflict-actions" }, send, cancel),
  );
  dialog.showModal();
  note.focus();
}
