/**
 * Mouse, touch and keyboard. Panning: Space+drag, middle or right button, or two fingers; zooming: wheel (and a
 * trackpad pinch, which arrives as wheel + Ctrl), a two-finger pinch, + and -. Pointer input goes to the tool;
 * a key goes to the tool first, then to the key table (keyboard.ts).
 */
import { snapToPixel } from "../model/polygon";
import type { ToolPointer } from "../tools/tool";
import { EDITOR_COMMANDS } from "./commands";
import type { Editor, EditorShell } from "./Editor";
import { byId } from "./dom";
import { isTyping, keyLookup, keyTableBuild } from "./keyboard";

const WHEEL_ZOOM_PER_PX = 0.0015;

export function inputBind(editor: Editor, shell: EditorShell): () => void {
  const canvas = byId<HTMLCanvasElement>("overlay-layer");
  const viewer = byId("viewer");
  const keys = keyTableBuild(editor.toolRegistry, EDITOR_COMMANDS);
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

  const onDoubleClick = (event: MouseEvent): void => {
    editor.tool.doubleClick?.(toolPointer(event));
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (isTyping(event) || document.querySelector("dialog[open]")) return;
    // Space is not a command: it pans for as long as it is held, so it is kept here with its keyup.
    if (event.key === " ") {
      isSpaceDown = true;
      viewer.classList.add("panning");
      event.preventDefault();
      return;
    }
    if (editor.tool.key(event)) {
      event.preventDefault();
      return;
    }
    const binding = keyLookup(keys, event);
    if (!binding) return; // not ours: the browser keeps Ctrl+P, Ctrl+1, Tab...
    binding.run({ editor, shell });
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
