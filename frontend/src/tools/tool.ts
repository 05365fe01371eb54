/** What a tool sees of the editor, what every tool implements, and the descriptor that registers it. */
import type { components } from "../api/schema";
import type { Geometry, Point } from "../model/types";
import type { Defect, Provenance, Store } from "../state/store";
import type { Viewport } from "../editor/viewport";
import type { AssistHost, RefinedPrelabel } from "./assist/assist";

/** The sources the create API accepts (its `source` choices); "imported" is the server's own. */
export type DrawnSource = components["schemas"]["AnnotationListInputSourceEnum"];

/** How a drawn defect came to be: recorded with it in the store, `source` also on the server. */
export interface DefectOrigin {
  readonly source: DrawnSource;
  /** E.g. the prompt that made it; see Defect.provenance for where it goes. */
  readonly provenance?: Provenance;
}

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
  /** Adds a drawn defect with the current class and severity and the tool's origin, selects it; one undo step. */
  defectCreate(geometry: Geometry, origin: DefectOrigin): void;
  colorOf(defectClassId: number): string;
  isVisible(defect: Defect): boolean;
  requestRender(): void;
  notify(message: string): void;
  /** The server's assist engines (assist tools); absent where the editor offers none (final mode). */
  readonly assist?: AssistHost;
  /** Selects the pre-label suggestion under an image-space point, if any; true when there was one. */
  suggestionSelectAt?(point: Point): boolean;
  /** The pending model pre-label under an image-space point, which the click tool then refines; null: none. */
  prelabelAt?(point: Point): RefinedPrelabel | null;
  /** A refined pre-label was replaced by the kept answer: it leaves the list (deleted, as the statistics count it). */
  prelabelReplaced?(suggestionId: number): void;
}

/**
 * Everything the editor needs to know about a tool before it exists: the toolbar button, the shortcut, the help
 * overlay row and the cursor are all read from here, so none of them is written down anywhere else.
 */
export interface ToolDescriptor {
  /** Stable id: the toolbar button's data-tool and the editor root's data-tool while active. */
  readonly name: string;
  readonly label: string;
  /** The shortcut, as KeyboardEvent.key gives it without Shift ("p"); shown upper case. */
  readonly key: string;
  /** The help overlay's row for this tool: what it does and how it is used. */
  readonly help: string;
  readonly cursor: string;
  /** What the defects this tool draws are recorded as. */
  readonly source: DrawnSource;
  /** Whether the one selected defect shows its vertex handles while this tool is active. */
  readonly hasVertexHandles?: boolean;
  create(host: ToolHost): Tool;
}

export interface Tool {
  readonly descriptor: ToolDescriptor;
  pointerDown(pointer: ToolPointer): void;
  pointerMove(pointer: ToolPointer, isDragging: boolean): void;
  pointerUp(pointer: ToolPointer): void;
  /** Returns true when the key was the tool's (Enter, Escape, Backspace...). */
  key(event: KeyboardEvent): boolean;
  /** Live drawing on top of the defects, in screen space. */
  draw(context: CanvasRenderingContext2D): void;
  cancel(): void;
  doubleClick?(pointer: ToolPointer): void;
  /** Geometry of a selected defect being changed, painted instead of the stored one until the change is done. */
  previewOf?(key: string): Geometry | null;
}

/** Screen px within which a click counts as on a vertex or an edge. */
export const HANDLE_TOLERANCE_PX = 7;
