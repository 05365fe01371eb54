import { describe, expect, it } from "vitest";
import type { DefectClass } from "../api/client";
import type { Geometry } from "../model/types";
import { type Defect, Store } from "../state/store";
import { TOOL_REGISTRY } from "../tools/registry";
import { type CommandHost, EDITOR_COMMANDS } from "./commands";
import type { EditorShell } from "./Editor";
import { type KeyPress, helpRows, keyLookup, keyTableBuild } from "./keyboard";
import { Taxonomy } from "./taxonomy";

const table = keyTableBuild(TOOL_REGISTRY, EDITOR_COMMANDS);

/** A key press as the browser reports it; `code` defaults to the digit row for digits. */
function press(key: string, modifiers: Partial<Omit<KeyPress, "key">> = {}): KeyPress {
  const code = /^[0-9]$/.test(key) ? `Digit${key}` : "";
  return { key, code, shiftKey: false, ctrlKey: false, metaKey: false, ...modifiers };
}

const ctrl = { ctrlKey: true };
const shift = { shiftKey: true };

describe("the key table", () => {
  it("maps every shortcut the editor had to the same action", () => {
    // given: the old if-chain in input.ts, key by key
    const digits = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const arrows = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];
    const expected: Array<[KeyPress, string]> = [
      [press("v"), "tool:select"],
      [press("p"), "tool:polygon"],
      [press("r"), "tool:rectangle"],
      [press("b"), "tool:brush"],
      [press("e"), "tool:eraser"],
      [press("a"), "tool:assist-box"],
      [press("c"), "tool:assist-click"],
      [press("V", shift), "tool:select"],
      [press("P"), "tool:polygon"], // Caps Lock
      [press("["), "brush-smaller"],
      [press("]"), "brush-larger"],
      ...digits.map((digit): [KeyPress, string] => [press(String(digit)), `class-pick:${digit}`]),
      ...digits.map((digit): [KeyPress, string] => [press("!", { code: `Digit${digit}`, ...shift }), `severity-pick:${digit}`]),
      [press("&", { code: "Digit1" }), "class-pick:1"], // AZERTY: the digit row without Shift
      [press("Delete"), "selection-delete"],
      [press("Backspace"), "selection-delete"],
      [press("d", ctrl), "selection-duplicate"],
      [press("D", { ...ctrl, ...shift }), "selection-duplicate"],
      [press("a", ctrl), "select-all"],
      ...arrows.map((key): [KeyPress, string] => [press(key), `nudge:${key}`]),
      ...arrows.map((key): [KeyPress, string] => [press(key, shift), `nudge-far:${key}`]),
      [press("z", ctrl), "undo"],
      [press("z", { metaKey: true }), "undo"],
      [press("Z", { ...ctrl, ...shift }), "redo"],
      [press("y", ctrl), "redo"],
      [press("+", shift), "zoom-in"],
      [press("="), "zoom-in"],
      [press("-"), "zoom-out"],
      [press("_", shift), "zoom-out"],
      [press("f"), "fit"],
      [press("F", shift), "fit"],
      [press("0"), "one-to-one"],
      [press("0", { code: "Numpad0" }), "one-to-one"],
      [press("h"), "overlay-toggle"],
      [press("n"), "defect-free-toggle"],
      [press("q"), "edge-case-flag"],
      [press("Enter", ctrl), "submit"],
      [press("Enter", { ...ctrl, ...shift }), "submit"],
      [press("PageDown"), "navigate-next"],
      [press("PageUp"), "navigate-previous"],
      [press("Escape"), "selection-clear"],
      [press("Delete", shift), "selection-delete"],
      [press("Enter"), "suggestion-accept"], // once no tool took it (the polygon's, Assist click's)
      [press("?", { code: "Slash", ...shift }), "help"],
    ];
    // when
    const actual = expected.map(([keyPress]) => keyLookup(table, keyPress)?.action);
    // then
    expect(actual).toEqual(expected.map(([, action]) => action));
  });

  it("leaves every other key to the browser and the tool", () => {
    const unbound = [
      press("p", ctrl), // print
      press("1", ctrl),
      press("ArrowLeft", ctrl),
      press("Escape", ctrl),
      press("1", { code: "Numpad1" }), // class keys are the digit row's only
      press("Tab"),
      press("x"),
      press("{", shift),
    ];
    expect(unbound.map((keyPress) => keyLookup(table, keyPress))).toEqual(unbound.map(() => undefined));
  });

  it("has no two bindings on one key", () => {
    const chords = [...TOOL_REGISTRY.map((tool) => tool.key), ...EDITOR_COMMANDS.flatMap((command) => command.bindings.map((binding) => binding.chord))];
    expect(new Set(chords).size).toBe(chords.length);
    expect(table.size).toBe(chords.length);
  });
});

describe("the help overlay", () => {
  it("lists every row it listed before, in the same order, tool rows from the registry", () => {
    expect(helpRows(TOOL_REGISTRY, EDITOR_COMMANDS).map((row) => [row.keys, row.help])).toEqual([
      ["V", "Select / edit (drag vertices, drag an edge to insert, Alt+click deletes a vertex)"],
      ["P", "Polygon (click vertices; Enter, double-click or the first vertex closes)"],
      ["R", "Rectangle (drag)"],
      ["B", "Brush (adds to the selected defect, or draws a new one)"],
      ["E", "Eraser (removes from the selected defects, or any it touches)"],
      ["A", "Assist box (drag round a defect: the assist engine outlines it)"],
      ["C", "Assist click (click the defect, Alt/Shift+click what is not; Tab shows SAM's other answers; Enter keeps, Escape drops, Backspace undoes a click)"],
      ["[  ]", "Brush and eraser size"],
      ["1 – 9", "Defect class (new defects, and the selection)"],
      ["Shift+1 – 9", "Severity of the current class (and the selection)"],
      ["Delete / Backspace", "Delete the selection (or the selected suggestion)"],
      ["Enter", "Keep the selected pre-label suggestion as your defect (none selected: select the best one)"],
      ["Ctrl+D", "Duplicate the selection"],
      ["Ctrl+A", "Select all"],
      ["Arrows", "Nudge the selection by 1 px (Shift: 10 px)"],
      ["Ctrl+Z / Ctrl+Shift+Z", "Undo / redo (also Ctrl+Y)"],
      ["Wheel, pinch, + / −", "Zoom"],
      ["Drag empty space with Space, middle or right button", "Pan"],
      ["F / 0", "Fit the image / 1:1 (one image pixel per screen pixel)"],
      ["H", "Hide or show all defects"],
      ["N", "Mark the image as having no defect (or withdraw it)"],
      ["Q", "Flag the image as an edge case for the seniors (with an optional note)"],
      ["Ctrl+Enter", "Submit and open the next image"],
      ["Page Down / Page Up", "Next / previous image in my queue"],
      ["Escape", "Cancel the drawing, or clear the selection"],
      ["?", "This help"],
    ]);
  });
});

// ---- what the bindings do ----------------------------------------------------------------------------------

const square: Geometry = { polygons: [{ exterior: [[1, 1], [4, 1], [4, 4], [1, 4]], holes: [] }] };

function defectClass(id: number, ranks: number[]): DefectClass {
  return { id, name: `class ${id}`, is_active: true, severity_levels: ranks.map((rank) => ({ id: id * 10 + rank, name: `rank ${rank}`, rank })) };
}

/** The editor as the commands see it, recording the calls that are not store edits. */
class RecordingEditor implements CommandHost {
  readonly store = new Store([{ key: "n1", defectClassId: 1, severityId: null, geometry: square, source: "manual" }]);
  readonly taxonomy = new Taxonomy([defectClass(1, [1, 2]), defectClass(2, []), defectClass(3, [])], null);
  currentClassId: number | null = 1;
  readonly imageWidth = 50;
  readonly imageHeight = 40;
  readonly calls: string[] = [];

  selected(): Defect[] {
    const { defects, selection } = this.store.snapshot;
    return [...selection].map((key) => defects.get(key)!);
  }
  toolSet(name: string): void {
    this.calls.push(`toolSet ${name}`);
  }
  classPick(id: number): void {
    this.calls.push(`classPick ${id}`);
  }
  severityPick(id: number | null): void {
    this.calls.push(`severityPick ${id}`);
  }
  selectionDelete(): void {}
  selectionDuplicate(): void {}
  suggestionAccept(): void {
    this.calls.push("suggestionAccept");
  }
  brushResize(): void {}
  zoomBy(factor: number): void {
    this.calls.push(`zoomBy ${factor}`);
  }
  fit(): void {}
  oneToOne(): void {}
  overlayToggle(): void {}
  helpShow(): void {}
}

const shell: EditorShell = { defectFreeToggle() {}, edgeCaseFlag() {}, submit() {}, navigate() {} };

function run(editor: RecordingEditor, keyPress: KeyPress): void {
  keyLookup(table, keyPress)!.run({ editor, shell });
}

describe("the bindings", () => {
  it("pick the nth active class with n, and the current class's severity of rank n with Shift+n", () => {
    // given
    const editor = new RecordingEditor();
    // when
    run(editor, press("3"));
    run(editor, press("@", { code: "Digit2", ...shift }));
    run(editor, press("(", { code: "Digit9", ...shift })); // no rank 9: nothing
    run(editor, press("9")); // no ninth class: nothing
    run(editor, press("p"));
    run(editor, press("+", shift));
    // then
    expect(editor.calls).toEqual(["classPick 3", "severityPick 12", "toolSet polygon", "zoomBy 1.25"]);
  });

  it("nudge the selection by 1 px, or 10 px with Shift, one undo step each", () => {
    // given
    const editor = new RecordingEditor();
    editor.store.select(["n1"]);
    // when
    run(editor, press("ArrowRight"));
    run(editor, press("ArrowDown", shift));
    // then
    expect(editor.store.snapshot.defects.get("n1")!.geometry.polygons[0]!.exterior).toEqual([[2, 11], [5, 11], [5, 14], [2, 14]]);
    // when: undo, then redo
    run(editor, press("z", ctrl));
    expect(editor.store.snapshot.defects.get("n1")!.geometry.polygons[0]!.exterior).toEqual([[2, 1], [5, 1], [5, 4], [2, 4]]);
    run(editor, press("Z", { ...ctrl, ...shift }));
    expect(editor.store.snapshot.defects.get("n1")!.geometry.polygons[0]!.exterior).toEqual([[2, 11], [5, 11], [5, 14], [2, 14]]);
  });

  it("keep each nudged vertex inside the image", () => {
    // given
    const editor = new RecordingEditor();
    editor.store.select(["n1"]);
    // when
    run(editor, press("ArrowLeft", shift));
    // then: vertices are clamped one by one, as before
    expect(editor.store.snapshot.defects.get("n1")!.geometry.polygons[0]!.exterior).toEqual([[0, 1], [0, 1], [0, 4], [0, 4]]);
  });

  it("select all with Ctrl+A and clear the selection with Escape, without an undo step", () => {
    // given
    const editor = new RecordingEditor();
    // when / then
    run(editor, press("a", ctrl));
    expect([...editor.store.snapshot.selection]).toEqual(["n1"]);
    run(editor, press("Escape"));
    expect(editor.store.snapshot.selection.size).toBe(0);
    expect(editor.store.canUndo).toBe(false);
  });
});
