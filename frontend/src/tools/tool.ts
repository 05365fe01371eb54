/** What a tool sees of the editor, and what every tool implements. */
import type { Geometry, Point } from "../model/types";
import type { Defect, Store } from "../state/store";
import type { Viewport } from "../editor/viewport";

export interface ToolPointer {
  /** Continuous image-space position (pixel x covers [x, x + 1)). */
  readonly image: Point;
  /** The pixel-centre vertex under the pointer, inside the image. */
  readonly pixel: Point;
  readonly screen: Point;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
  readonly ctrlKey: boolean;
}

export interface ToolHost {
  readonly store: Store;
  readonly view: Viewport;
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** The class and severity new defects get (keys 1-9, Shift+1-9). */
  readonly currentClassId: number | null;
  readonly currentSeverityId: number | null;
  brushRadiusPx: number;
  /** The topmost visible defect under an image-space point. */
  defectAt(point: Point): Defect | null;
  /** Adds a drawn defect with the current class and severity, selects it; one undo step. */
  defectCreate(geometry: Geometry): void;
  colorOf(defectClassId: number): string;
  isVisible(defect: Defect): boolean;
  requestRender(): void;
  notify(message: string): void;
}

export interface Tool {
  readonly name: string;
  readonly label: string;
  readonly shortcut: string;
  readonly cursor: string;
  pointerDown(pointer: ToolPointer): void;
  pointerMove(pointer: ToolPointer, isDragging: boolean): void;
  pointerUp(pointer: ToolPointer): void;
  /** Returns true when the key was the tool's (Enter, Escape, Backspace...). */
  key(event: KeyboardEvent): boolean;
  /** Live drawing on top of the defects, in screen space. */
  draw(context: CanvasRenderingContext2D): void;
  cancel(): void;
}

/** Screen px within which a click counts as on a vertex or an edge. */
export const HANDLE_TOLERANCE_PX = 7;
