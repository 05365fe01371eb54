/**
 * The editor's own keyboard commands (everything that is not a tool), one entry per help overlay row. Tools
 * bring their shortcut in their descriptor (tools/registry.ts); keyboard.ts joins both into the key table.
 *
 * A chord is written as keyboard.ts's chordOf writes it: "Ctrl+" (Ctrl or ⌘), then "Shift+", then the key as
 * KeyboardEvent.key gives it, single characters in lower case ("Ctrl+Shift+z", "Shift+ArrowLeft", "?").
 */
import type { DefectClass } from "../api/client";
import type { Defect, Store } from "../state/store";
import type { EditorShell } from "./Editor";

const KEY_ZOOM_FACTOR = 1.25;
const NUDGE_PX = 1;
const NUDGE_SHIFT_PX = 10;

/** What the commands act on: the Editor, narrowed to what they use so a test can stand in for it. */
export interface CommandHost {
  readonly store: Store;
  readonly taxonomy: { readonly active: readonly DefectClass[]; get(defectClassId: number): DefectClass | undefined };
  readonly currentClassId: number | null;
  readonly imageWidth: number;
  readonly imageHeight: number;
  selected(): Defect[];
  toolSet(name: string): void;
  classPick(defectClassId: number): void;
  severityPick(severityId: number | null): void;
  selectionDelete(): void;
  selectionDuplicate(): void;
  /** Keeps the selected pre-label suggestion (none selected: selects the best one waiting). */
  suggestionAccept(): void;
  brushResize(delta: number): void;
  zoomBy(factor: number): void;
  fit(): void;
  oneToOne(): void;
  overlayToggle(): void;
  helpShow(): void;
}

export interface CommandContext {
  readonly editor: CommandHost;
  readonly shell: EditorShell;
}

export interface KeyBinding {
  readonly chord: string;
  /** What the key does, as a stable id ("undo", "tool:polygon", "class-pick:3"): what tests compare. */
  readonly action: string;
  run(context: CommandContext): void;
}

/** One help overlay row and the keys it describes. */
export interface EditorCommand {
  /** The keys as the help shows them. */
  readonly keys: string;
  readonly help: string;
  /** Empty for pointer gestures, which the help lists but the key table does not hold. */
  readonly bindings: readonly KeyBinding[];
}

function bind(chord: string, action: string, run: (context: CommandContext) => void): KeyBinding {
  return { chord, action, run };
}

const DIGITS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;

/** Moves the selected defects by whole pixels, each vertex kept inside the image; one undo step. */
export function selectionNudge(editor: CommandHost, dx: number, dy: number): void {
  const selected = editor.selected();
  if (!selected.length) return;
  const clampX = (x: number): number => Math.min(editor.imageWidth - 1, Math.max(0, x));
  const clampY = (y: number): number => Math.min(editor.imageHeight - 1, Math.max(0, y));
  const move = (ring: readonly (readonly [number, number])[]): Array<[number, number]> => ring.map(([x, y]) => [clampX(x + dx), clampY(y + dy)]);
  editor.store.edit((defects) => {
    for (const defect of selected) {
      const polygons = defect.geometry.polygons.map((polygon) => ({ exterior: move(polygon.exterior), holes: polygon.holes.map(move) }));
      defects.set(defect.key, { ...defect, geometry: { polygons } });
    }
  });
}

/** Shift+1-9: the severity of that rank in the current class, if it has one. */
function severityPickByRank(editor: CommandHost, rank: number): void {
  const current = editor.currentClassId === null ? undefined : editor.taxonomy.get(editor.currentClassId);
  const level = current?.severity_levels.find((candidate) => candidate.rank === rank);
  if (level) editor.severityPick(level.id);
}

function nudgeBindings(): KeyBinding[] {
  const directions = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] } as const;
  return Object.entries(directions).flatMap(([key, [x, y]]) => [
    bind(key, `nudge:${key}`, ({ editor }) => selectionNudge(editor, x * NUDGE_PX, y * NUDGE_PX)),
    bind(`Shift+${key}`, `nudge-far:${key}`, ({ editor }) => selectionNudge(editor, x * NUDGE_SHIFT_PX, y * NUDGE_SHIFT_PX)),
  ]);
}

export const EDITOR_COMMANDS: readonly EditorCommand[] = [
  {
    keys: "[  ]",
    help: "Brush and eraser size",
    bindings: [
      bind("[", "brush-smaller", ({ editor }) => editor.brushResize(-1)),
      bind("]", "brush-larger", ({ editor }) => editor.brushResize(1)),
    ],
  },
  {
    keys: "1 – 9",
    help: "Defect class (new defects, and the selection)",
    bindings: DIGITS.map((digit) =>
      bind(String(digit), `class-pick:${digit}`, ({ editor }) => {
        const defectClass = editor.taxonomy.active[digit - 1];
        if (defectClass) editor.classPick(defectClass.id);
      }),
    ),
  },
  {
    keys: "Shift+1 – 9",
    help: "Severity of the current class (and the selection)",
    bindings: DIGITS.map((digit) => bind(`Shift+${digit}`, `severity-pick:${digit}`, ({ editor }) => severityPickByRank(editor, digit))),
  },
  {
    keys: "Delete / Backspace",
    help: "Delete the selection (or the selected suggestion)",
    bindings: [
      bind("Delete", "selection-delete", ({ editor }) => editor.selectionDelete()),
      bind("Backspace", "selection-delete", ({ editor }) => editor.selectionDelete()),
    ],
  },
  {
    // Tools take Enter first: the polygon closes, Assist click keeps its outline.
    keys: "Enter",
    help: "Keep the selected pre-label suggestion as your defect (none selected: select the best one)",
    bindings: [bind("Enter", "suggestion-accept", ({ editor }) => editor.suggestionAccept())],
  },
  { keys: "Ctrl+D", help: "Duplicate the selection", bindings: [bind("Ctrl+d", "selection-duplicate", ({ editor }) => editor.selectionDuplicate())] },
  {
    keys: "Ctrl+A",
    help: "Select all",
    bindings: [bind("Ctrl+a", "select-all", ({ editor }) => editor.store.select(editor.store.snapshot.defects.keys()))],
  },
  { keys: "Arrows", help: "Nudge the selection by 1 px (Shift: 10 px)", bindings: nudgeBindings() },
  {
    keys: "Ctrl+Z / Ctrl+Shift+Z",
    help: "Undo / redo (also Ctrl+Y)",
    bindings: [
      bind("Ctrl+z", "undo", ({ editor }) => void editor.store.undo()),
      bind("Ctrl+Shift+z", "redo", ({ editor }) => void editor.store.redo()),
      bind("Ctrl+y", "redo", ({ editor }) => void editor.store.redo()),
    ],
  },
  {
    keys: "Wheel, pinch, + / −",
    help: "Zoom",
    bindings: [
      // "=" and "_" are the unshifted "+" and "-" on most keyboards.
      bind("+", "zoom-in", ({ editor }) => editor.zoomBy(KEY_ZOOM_FACTOR)),
      bind("=", "zoom-in", ({ editor }) => editor.zoomBy(KEY_ZOOM_FACTOR)),
      bind("-", "zoom-out", ({ editor }) => editor.zoomBy(1 / KEY_ZOOM_FACTOR)),
      bind("_", "zoom-out", ({ editor }) => editor.zoomBy(1 / KEY_ZOOM_FACTOR)),
    ],
  },
  // Space pans while it is held (down to up), so input.ts handles it itself; this row only describes it.
  { keys: "Drag empty space with Space, middle or right button", help: "Pan", bindings: [] },
  {
    keys: "F / 0",
    help: "Fit the image / 1:1 (one image pixel per screen pixel)",
    bindings: [bind("f", "fit", ({ editor }) => editor.fit()), bind("0", "one-to-one", ({ editor }) => editor.oneToOne())],
  },
  { keys: "H", help: "Hide or show all defects", bindings: [bind("h", "overlay-toggle", ({ editor }) => editor.overlayToggle())] },
  {
    keys: "N",
    help: "Mark the image as having no defect (or withdraw it)",
    bindings: [bind("n", "defect-free-toggle", ({ shell }) => shell.defectFreeToggle())],
  },
  {
    keys: "Q",
    help: "Flag the image as an edge case for the seniors (with an optional note)",
    bindings: [bind("q", "edge-case-flag", ({ shell }) => shell.edgeCaseFlag())],
  },
  { keys: "Ctrl+Enter", help: "Submit and open the next image", bindings: [bind("Ctrl+Enter", "submit", ({ shell }) => shell.submit())] },
  {
    keys: "Page Down / Page Up",
    help: "Next / previous image in my queue",
    bindings: [
      bind("PageDown", "navigate-next", ({ shell }) => shell.navigate("next")),
      bind("PageUp", "navigate-previous", ({ shell }) => shell.navigate("previous")),
    ],
  },
  {
    keys: "Escape",
    help: "Cancel the drawing, or clear the selection", // the drawing: the tool takes Escape first
    bindings: [bind("Escape", "selection-clear", ({ editor }) => editor.store.select([]))],
  },
  { keys: "?", help: "This help", bindings: [bind("?", "help", ({ editor }) => editor.helpShow())] },
];
