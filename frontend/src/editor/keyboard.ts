/** Every keyboard shortcut, in one table: the help overlay (?) is generated from it. */
import { element } from "./dom";

export interface Shortcut {
  readonly keys: string;
  readonly action: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: "V", action: "Select / edit (drag vertices, drag an edge to insert, Alt+click deletes a vertex)" },
  { keys: "P", action: "Polygon (click vertices; Enter, double-click or the first vertex closes)" },
  { keys: "R", action: "Rectangle (drag)" },
  { keys: "B", action: "Brush (adds to the selected defect, or draws a new one)" },
  { keys: "E", action: "Eraser (removes from the selected defects, or any it touches)" },
  { keys: "[  ]", action: "Brush and eraser size" },
  { keys: "1 – 9", action: "Defect class (new defects, and the selection)" },
  { keys: "Shift+1 – 9", action: "Severity of the current class (and the selection)" },
  { keys: "Delete / Backspace", action: "Delete the selection" },
  { keys: "Ctrl+D", action: "Duplicate the selection" },
  { keys: "Ctrl+A", action: "Select all" },
  { keys: "Arrows", action: "Nudge the selection by 1 px (Shift: 10 px)" },
  { keys: "Ctrl+Z / Ctrl+Shift+Z", action: "Undo / redo (also Ctrl+Y)" },
  { keys: "Wheel, pinch, + / −", action: "Zoom" },
  { keys: "Drag empty space with Space, middle or right button", action: "Pan" },
  { keys: "F / 0", action: "Fit the image / 1:1 (one image pixel per screen pixel)" },
  { keys: "H", action: "Hide or show all defects" },
  { keys: "N", action: "Mark the image as having no defect (or withdraw it)" },
  { keys: "Q", action: "Flag the image as an edge case for the seniors (with an optional note)" },
  { keys: "Ctrl+Enter", action: "Submit and open the next image" },
  { keys: "Page Down / Page Up", action: "Next / previous image in my queue" },
  { keys: "Escape", action: "Cancel the drawing, or clear the selection" },
  { keys: "?", action: "This help" },
];

export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return !!target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
}

/** The help overlay: every shortcut, from the table above. */
export function helpShow(dialog: HTMLDialogElement): void {
  const rows = SHORTCUTS.map((shortcut) =>
    element("tr", {}, element("td", {}, element("kbd", {}, shortcut.keys)), element("td", {}, shortcut.action)),
  );
  const close = element("button", { type: "button" }, "Close");
  close.addEventListener("click", () => dialog.close());
  dialog.replaceChildren(element("h2", {}, "Keyboard shortcuts"), element("table", {}, ...rows), close);
  dialog.showModal();
}
