/** Rectangle: drag between two corners; stored as a 4-vertex polygon through pixel centres. */
import { rectanglePolygon } from "../../model/polygon";
import type { Point } from "../../model/types";
import type { Tool, ToolDescriptor, ToolHost, ToolPointer } from "../tool";

export const rectangleTool: ToolDescriptor = {
  name: "rectangle",
  label: "Rectangle",
  key: "r",
  help: "Rectangle (drag)",
  cursor: "crosshair",
  source: "manual",
  create: (host) => new RectangleTool(host),
};

export class RectangleTool implements Tool {
  readonly descriptor = rectangleTool;
  private start: Point | null = null;
  private end: Point | null = null;

  constructor(private readonly host: ToolHost) {}

  pointerDown(pointer: ToolPointer): void {
    this.start = pointer.pixel;
    this.end = pointer.pixel;
  }

  pointerMove(pointer: ToolPointer, isDragging: boolean): void {
    if (!this.start || !isDragging) return;
    this.end = pointer.pixel;
    this.host.requestRender();
  }

  pointerUp(pointer: ToolPointer): void {
    if (!this.start) return;
    const start = this.start;
    this.start = this.end = null;
    if (start[0] === pointer.pixel[0] || start[1] === pointer.pixel[1]) {
      this.host.requestRender();
      return; // a click, not a rectangle
    }
    this.host.defectCreate({ polygons: [rectanglePolygon(start, pointer.pixel)] }, { source: this.descriptor.source });
  }

  key(event: KeyboardEvent): boolean {
    if (event.key === "Escape" && this.start) {
      this.cancel();
      return true;
    }
    return false;
  }

  cancel(): void {
    this.start = this.end = null;
    this.host.requestRender();
  }

  draw(context: CanvasRenderingContext2D): void {
    if (!this.start || !this.end) return;
    const [x0, y0] = this.host.view.vertexToScreen(this.start);
    const [x1, y1] = this.host.view.vertexToScreen(this.end);
    context.strokeStyle = this.host.currentClassId ? this.host.colorOf(this.host.currentClassId) : "#fff";
    context.lineWidth = 2;
    context.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  }
}
