/**
 * The key table: every shortcut, from the tool registry (each tool's own key) and the editor's commands
 * (commands.ts). Key presses are looked up in it, and the help overlay (?) is generated from the same two lists,
 * so a shortcut is written down once.
 */
import type { ToolDescriptor } from "../tools/tool";
import type { EditorCommand, KeyBinding } from "./commands";
import { element } from "./dom";

/** The part of a KeyboardEvent the table needs (a test can build one without a browser). */
export interface KeyPress {
  readonly key: string;
  readonly code: string;
  readonly shiftKey: boolean;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
}

export type KeyTable = ReadonlyMap<string, KeyBinding>;

export interface HelpRow {
  readonly keys: string;
  readonly help: string;
}

/**
 * The chord of a key press, as the table's bindings are written: "Ctrl+" (Ctrl or ⌘), "Shift+", then the key,
 * single characters in lower case. Alt is ignored, as it always was. Null for a press no binding can match.
 */
export function chordOf(press: KeyPress): string | null {
  // Digits 1-9 are taken from the key's position on the digit row, so Shift+1 is "Shift+1" (not "!") and layouts
  // that need Shift for digits work alike; a digit from elsewhere (the numpad) is not a class key.
  const digit = /^Digit([1-9])$/.exec(press.code)?.[1];
  if (!digit && /^[1-9]$/.test(press.key)) return null;
  const key = digit ?? (press.key.length === 1 ? press.key.toLowerCase() : press.key);
  return `${press.ctrlKey || press.metaKey ? "Ctrl+" : ""}${press.shiftKey ? "Shift+" : ""}${key}`;
}

function toolBinding(descriptor: ToolDescriptor): KeyBinding {
  return { chord: descriptor.key.toLowerCase(), action: `tool:${descriptor.name}`, run: ({ editor }) => editor.toolSet(descriptor.name) };
}

/** Every binding by chord. Throws when two bindings share a chord: a new tool cannot take a key already in use. */
export function keyTableBuild(tools: readonly ToolDescriptor[], commands: readonly EditorCommand[]): KeyTable {
  const table = new Map<string, KeyBinding>();
  for (const binding of [...tools.map(toolBinding), ...commands.flatMap((command) => command.bindings)]) {
    const taken = table.get(binding.chord);
    if (taken) throw new Error(`"${binding.chord}" is bound twice: ${taken.action} and ${binding.action}`);
    table.set(binding.chord, binding);
  }
  return table;
}

/**
 * The binding for a key press. Shift only matters where a chord names it (Ctrl+Shift+Z, Shift+1, Shift+arrows);
 * elsewhere it is ignored as before: Shift+V is V, and "?" or "+" match whatever Shift it took to type them.
 */
export function keyLookup(table: KeyTable, press: KeyPress): KeyBinding | undefined {
  const chord = chordOf(press);
  if (chord === null) return undefined;
  return table.get(chord) ?? (press.shiftKey ? table.get(chord.replace("Shift+", "")) : undefined);
}

/** The help overlay's rows: the tools in toolbar order, then the editor's commands. */
export function helpRows(tools: readonly ToolDescriptor[], commands: readonly EditorCommand[]): HelpRow[] {
  return [
    ...tools.map((descriptor) => ({ keys: descriptor.key.toUpperCase(), help: descriptor.help })),
    ...commands.map((command) => ({ keys: command.keys, help: command.help })),
  ];
}

export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return !!target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
}

/** The help overlay: every shortcut. */
export function helpShow(dialog: HTMLDialogElement, rows: readonly HelpRow[]): void {
  const cells = rows.map((row) => element("tr", {}, element("td", {}, element("kbd", {}, row.keys)), element("td", {}, row.help)));
  const close = element("button", { type: "button" }, "Close");
  close.addEventListener("click", () => dialog.close());
  dialog.replaceChildren(element("h2", {}, "Keyboard shortcuts"), element("table", {}, ...cells), close);
  dialog.showModal();
}
