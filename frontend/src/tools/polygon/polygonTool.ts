/** Polygon: click vertices (on pixel centres); close on the first vertex, Enter or double-click; Backspace
 *  removes the last vertex, Escape drops the polygon. */
import type { Point } from "../../model/types";
import { HANDLE_TOLERANCE_PX, type Tool, type ToolDescriptor, type ToolHost, type ToolPointer } from "../tool";

export const polygonTool: ToolDescriptor = {
  name: "polygon",
  label: "Polygon",
  key: "p",
  help: "Polygon (click vertices; Enter, double-click or the first vertex closes)",
  cursor: "crosshair",
  source: "manual",
  create: (host) => new PolygonTool(host),
};

export class PolygonTool implements Tool {
  readonly descriptor = polygonTool;
  private vertices: Point[] = [];
  private hover: Point | null = null;

  constructor(private readonly host: ToolHost) {}

  pointerDown(pointer: ToolPointer): void {
    const first = this.vertices[0];
    if (first && this.vertices.length >= 3) {
      const [sx, sy] = this.host.view.vertexToScreen(first);
      if (Math.hypot(sx - pointer.screen[0], sy - pointer.screen[1]) <= HANDLE_TOLERANCE_PX) {
        this.close();
        return;
      }
    }
    const last = this.vertices[this.vertices.length - 1];
    if (!last || last[0] !== pointer.pixel[0] || last[1] !== pointer.pixel[1]) this.vertices.push(pointer.pixel);
    this.host.requestRender();
  }

  pointerMove(pointer: ToolPointer): void {
    this.hover = pointer.pixel;
    if (this.vertices.length) this.host.requestRender();
  }

  pointerUp(): void {}

  key(event: KeyboardEvent): boolean {
    if (!this.vertices.length) return false;
    if (event.key === "Enter") {
      this.close();
      return true;
    }
    if (event.key === "Backspace") {
      this.vertices.pop();
      this.host.requestRender();
      return true;
    }
    if (event.key === "Escape") {
      this.cancel();
      return true;
    }
    return false;
  }

  doubleClick(): void {
    this.close();
  }

  private close(): void {
    if (this.vertices.length < 3) {
      this.host.notify("A polygon needs at least 3 vertices.");
      return;
    }
    const exterior = this.vertices;
    this.vertices = [];
    this.host.defectCreate({ polygons: [{ exterior, holes: [] }] }, { source: this.descriptor.source });
  }

  cancel(): void {
    this.vertices = [];
    this.host.requestRender();
  }

  draw(context: CanvasRenderingContext2D): void {
    if (!this.vertices.length) return;
    const view = this.host.view;
    const color = this.host.currentClassId ? this.host.colorOf(this.host.currentClassId) : "#ffffff";
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    for (const [index, vertex] of this.vertices.entries()) {
      const [x, y] = view.vertexToScreen(vertex);
      if (index === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    }
    if (this.hover) context.lineTo(...view.vertexToScreen(this.hover));
    context.stroke();
    context.fillStyle = "#fff";
    for (const [index, vertex] of this.vertices.entries()) {
      const [x, y] = view.vertexToScreen(vertex);
      context.fillRect(x - (index === 0 ? 4 : 3), y - (index === 0 ? 4 : 3), index === 0 ? 8 : 6, index === 0 ? 8 : 6);
    }
  }
}
