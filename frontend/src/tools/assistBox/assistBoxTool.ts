/**
 * Assist box: drag a box round a defect; the server's engine outlines the defect inside it, and the outline becomes
 * an editable polygon of the current class, saved with source "assisted" and provenance {engine, prompt, score,
 * suggestion_id}. A box dragged past the image edge is clipped to it (pointer pixels are snapped inside).
 */
import type { Point } from "../../model/types";
import { type AssistPrompt, NO_ENGINE_MESSAGE, answerSuggestionId, answerText, assistProvenance, errorText } from "../assist/assist";
import type { Tool, ToolDescriptor, ToolHost, ToolPointer } from "../tool";

export const assistBoxTool: ToolDescriptor = {
  name: "assist-box",
  label: "Assist box",
  key: "a",
  help: "Assist box (drag round a defect: the assist engine outlines it)",
  cursor: "crosshair",
  source: "assisted",
  create: (host) => new AssistBoxTool(host),
};

/** (x0, y0, x1, y1) of two corners, smallest first. */
export function boxOf(from: Point, to: Point): readonly [number, number, number, number] {
  return [Math.min(from[0], to[0]), Math.min(from[1], to[1]), Math.max(from[0], to[0]), Math.max(from[1], to[1])];
}

export class AssistBoxTool implements Tool {
  readonly descriptor = assistBoxTool;
  private start: Point | null = null;
  private end: Point | null = null;
  /** The box waiting for its answer. */
  private waiting: readonly [number, number, number, number] | null = null;
  /** Bumped by every request and cancel: an answer for an older ticket is dropped. */
  private ticket = 0;

  constructor(private readonly host: ToolHost) {}

  /** Whether a box is being dragged or waits for the server. */
  get isBusy(): boolean {
    return this.start !== null || this.waiting !== null;
  }

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
    const start = this.start;
    this.start = this.end = null;
    this.host.requestRender();
    if (!start || start[0] === pointer.pixel[0] || start[1] === pointer.pixel[1]) return; // a click, not a box
    void this.ask({ box: boxOf(start, pointer.pixel) });
  }

  /** Sends the box; the answer becomes a defect unless the tool was cancelled meanwhile. */
  async ask(prompt: AssistPrompt): Promise<void> {
    const { assist, currentClassId } = this.host;
    if (!assist) return this.host.notify(NO_ENGINE_MESSAGE);
    if (currentClassId === null) return this.host.notify("This project has no defect classes: ask an admin to add some.");
    const ticket = ++this.ticket;
    this.waiting = prompt.box ?? null;
    this.host.requestRender();
    try {
      const answer = await assist.ask(prompt, currentClassId, null);
      if (ticket !== this.ticket) return;
      assist.status(answerText(answer));
      if (answer.geometry) {
        const suggestionId = answer.recorded ? await answerSuggestionId(answer) : answer.suggestionId;
        if (ticket !== this.ticket) return;
        this.host.defectCreate(answer.geometry, { source: this.descriptor.source, provenance: assistProvenance(answer, prompt, suggestionId) });
      } else this.host.notify("The assist found no defect in that box: draw it by hand, or try Assist click.");
    } catch (error) {
      if (ticket === this.ticket) this.host.notify(errorText(error));
    } finally {
      if (ticket === this.ticket) {
        this.waiting = null;
        this.host.requestRender();
      }
    }
  }

  key(event: KeyboardEvent): boolean {
    if (event.key === "Escape" && this.isBusy) {
      this.cancel();
      return true;
    }
    return false;
  }

  cancel(): void {
    this.ticket += 1;
    this.start = this.end = this.waiting = null;
    this.host.requestRender();
  }

  draw(context: CanvasRenderingContext2D): void {
    const box = this.waiting ?? (this.start && this.end ? boxOf(this.start, this.end) : null);
    if (!box) return;
    const [x0, y0] = this.host.view.vertexToScreen([box[0], box[1]]);
    const [x1, y1] = this.host.view.vertexToScreen([box[2], box[3]]);
    context.save();
    context.strokeStyle = this.host.currentClassId ? this.host.colorOf(this.host.currentClassId) : "#fff";
    context.lineWidth = 2;
    if (this.waiting) context.setLineDash([4, 4]); // asked: waiting for the engine
    context.strokeRect(x0, y0, x1 - x0, y1 - y0);
    context.restore();
  }
}
