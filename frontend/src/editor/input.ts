/**
 * Mouse, touch and keyboard. Panning: Space+drag, middle or right button, or two fingers; zooming: wheel (and a
 * trackpad pinch, which arrives as wheel + Ctrl), a two-finger pinch, + and -. Everything else goes to the tool.
 */
import { snapToPixel } from "../model/polygon";
import type { Tools } from "../tools/registry";
import type { ToolPointer } from "../tools/tool";
import type { Editor, EditorShell } from "./Editor";
import { byId } from "./dom";
import { isTyping } from "./keyboard";

const WHEEL_ZOOM_PER_PX = 0.0015;
const KEY_ZOOM_FACTOR = 1.25;
const NUDGE_PX = 1;
const NUDGE_SHIFT_PX = 10;
const TOOL_KEYS: Record<string, keyof Tools> = { v: "select", p: "polygon", r: "rectangle", b: "brush", e: "eraser" };

export function inputBind(editor: Editor, shell: EditorShell): () => void {
  const canvas = byId<HTMLCanvasElement>("overlay-layer");
  const viewer = byId("viewer");
  const pointers = new Map<number, { x: number; y: number }>();
  let panning: { x: number; y: number } | null = null;
  let toolDragging = false;
  let isSpaceDown = false;
  let pinch: { distance: number } | null = null;

  const toolPointer = (event: PointerEvent | MouseEvent): ToolPointer => {
    const box = canvas.getBoundingClientRect();
    const screen: [number, number] = [event.clientX - box.left, event.clientY - box.top];
    const image = editor.view.toImage(screen[0], screen[1]);
    return {
      screen,
      image,
      pixel: snapToPixel([image[0] - 0.5, image[1] - 0.5], editor.imageWidth, editor.imageHeight),
      shiftKey: event.shiftKey,
      altKey: event.altKey,
      ctrlKey: event.ctrlKey || event.metaKey,
    };
  };

  const onPointerDown = (event: PointerEvent): void => {
    canvas.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      editor.tool.cancel();
      toolDragging = false;
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.hypot(a!.x - b!.x, a!.y - b!.y) };
      panning = { x: (a!.x + b!.x) / 2, y: (a!.y + b!.y) / 2 };
      return;
    }
    if (isSpaceDown || event.button === 1 || event.button === 2) {
      panning = { x: event.clientX, y: event.clientY };
      return;
    }
    if (event.button !== 0) return;
    toolDragging = true;
    editor.tool.pointerDown(toolPointer(event));
  };

  const onPointerMove = (event: PointerEvent): void => {
    if (pointers.has(event.pointerId)) pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const distance = Math.hypot(a!.x - b!.x, a!.y - b!.y);
      const centre = { x: (a!.x + b!.x) / 2, y: (a!.y + b!.y) / 2 };
      const box = canvas.getBoundingClientRect();
      editor.view.panBy(centre.x - panning!.x, centre.y - panning!.y);
      editor.view.zoomAt(distance / pinch.distance, centre.x - box.left, centre.y - box.top);
      pinch.distance = distance;
      panning = centre;
      editor.requestRender();
      return;
    }
    if (panning) {
      editor.view.panBy(event.clientX - panning.x, event.clientY - panning.y);
      panning = { x: event.clientX, y: event.clientY };
      editor.requestRender();
      return;
    }
    editor.tool.pointerMove(toolPointer(event), toolDragging && (event.buttons & 1) === 1);
  };

  const onPointerUp = (event: PointerEvent): void => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (panning) {
      if (pointers.size === 0) panning = null;
      return;
    }
    if (toolDragging) {
      toolDragging = false;
      editor.tool.pointerUp(toolPointer(event));
    }
  };

  const onWheel = (event: WheelEvent): void => {
    event.preventDefault();
    const box = canvas.getBoundingClientRect();
    const pixels = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    editor.zoomBy(Math.exp(-pixels * WHEEL_ZOOM_PER_PX * (event.ctrlKey ? 4 : 1)), event.clientX - box.left, event.clientY - box.top);
  };

  const onDoubleClick = (): void => {
    if (editor.tool === editor.tools.polygon) editor.tools.polygon.doubleClick();
  };

  const nudge = (dx: number, dy: number): void => {
    const selected = editor.selected();
    if (!selected.length) return;
    editor.store.edit((defects) => {
      for (const defect of selected) {
        const move = (ring: readonly (readonly [number, number])[]): Array<[number, number]> =>
          ring.map(([x, y]) => [Math.min(editor.imageWidth - 1, Math.max(0, x + dx)), Math.min(editor.imageHeight - 1, Math.max(0, y + dy))]);
        defects.set(defect.key, { ...defect, geometry: { polygons: defect.geometry.polygons.map((polygon) => ({ exterior: move(polygon.exterior), holes: polygon.holes.map(move) })) } });
      }
    });
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (isTyping(event) || document.querySelector("dialog[open]")) return;
    const key = event.key;
    const control = event.ctrlKey || event.metaKey;
    if (key === " ") {
      isSpaceDown = true;
      viewer.classList.add("panning");
      event.preventDefault();
      return;
    }
    if (editor.tool.key(event)) {
      event.preventDefault();
      return;
    }
    const digit = /^Digit([1-9])$/.exec(event.code);
    if (control && key.toLowerCase() === "z") editor.store[event.shiftKey ? "redo" : "undo"]();
    else if (control && key.toLowerCase() === "y") editor.store.redo();
    else if (control && key.toLowerCase() === "d") editor.selectionDuplicate();
    else if (control && key.toLowerCase() === "a") editor.store.select(editor.store.snapshot.defects.keys());
    else if (control && key === "Enter") shell.submit();
    else if (control) return;
    else if (digit && event.shiftKey) {
      const rank = Number(digit[1]);
      const current = editor.currentClassId === null ? undefined : editor.taxonomy.get(editor.currentClassId);
      const level = current?.severity_levels.find((candidate) => candidate.rank === rank);
      if (level) editor.severityPick(level.id);
    } else if (digit) {
      const defectClass = editor.taxonomy.active[Number(digit[1]) - 1];
      if (defectClass) editor.classPick(defectClass.id);
    } else if (TOOL_KEYS[key.toLowerCase()]) editor.toolSet(TOOL_KEYS[key.toLowerCase()]!);
    else if (key === "[" || key === "]") editor.brushResize(key === "]" ? 1 : -1);
    else if (key === "+" || key === "=") editor.zoomBy(KEY_ZOOM_FACTOR);
    else if (key === "-" || key === "_") editor.zoomBy(1 / KEY_ZOOM_FACTOR);
    else if (key.toLowerCase() === "f") editor.fit();
    else if (key === "0") editor.oneToOne();
    else if (key.toLowerCase() === "h") editor.overlayToggle();
    else if (key.toLowerCase() === "n") shell.defectFreeToggle();
    else if (key.toLowerCase() === "q") shell.edgeCaseFlag();
    else if (key === "?") editor.helpShow();
    else if (key === "Delete" || key === "Backspace") editor.selectionDelete();
    else if (key === "Escape") editor.store.select([]);
    else if (key === "PageDown") shell.navigate("next");
    else if (key === "PageUp") shell.navigate("previous");
    else if (key.startsWith("Arrow")) {
      const step = event.shiftKey ? NUDGE_SHIFT_PX : NUDGE_PX;
      const [dx, dy] = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[key] ?? [0, 0];
      nudge(dx!, dy!);
    } else return;
    event.preventDefault();
  };

  const onKeyUp = (event: KeyboardEvent): void => {
    if (event.key === " ") {
      isSpaceDown = false;
      viewer.classList.remove("panning");
    }
  };

  const onResize = (): void => editor.resize();
  const onContextMenu = (event: Event): void => event.preventDefault();
  canvas.addEventListener("pointerdown", onPointerDown);
  canvas.addEventListener("pointermove", onPointerMove);
  canvas.addEventListener("pointerup", onPointerUp);
  canvas.addEventListener("pointercancel", onPointerUp);
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("dblclick", onDoubleClick);
  canvas.addEventListener("contextmenu", onContextMenu);
  window.addEventListener("keydown", onKeyDown);
  window.addEventListener("keyup", onKeyUp);
  window.addEventListener("resize", onResize);
  return () => {
    canvas.removeEventListener("pointerdown", onPointerDown);
    canvas.removeEventListener("pointermove", onPointerMove);
    canvas.removeEventListener("pointerup", onPointerUp);
    canvas.removeEventListener("pointercancel", onPointerUp);
    canvas.removeEventListener("wheel", onWheel);
    canvas.removeEventListener("dblclick", onDoubleClick);
    canvas.removeEventListener("contextmenu", onContextMenu);
    window.removeEventListener("keydown", onKeyDown);
    window.removeEventListener("keyup", onKeyUp);
    window.removeEventListener("resize", onResize);
  };
}
