/**
 * Assist click: click on a defect (positive), Alt+ or Shift+click where it is not (negative); after each click the
 * server's engine answers the whole prompt again and the pending outline is shown dashed. Enter keeps it as an
 * editable polygon of the current class (source "assisted", provenance {engine, prompt, score, suggestion_id}),
 * Escape drops it, Backspace takes back the last click.
 *
 * One request at a time: clicks made while the server answers are sent together once it has, so each request names
 * the answer it replaces (the server stops counting replaced answers in the statistics).
 */
import type { Point } from "../../model/types";
import {
  type AssistAnswer,
  type AssistPrompt,
  NO_ENGINE_MESSAGE,
  type RefinedPrelabel,
  answerSuggestionId,
  answerText,
  assistProvenance,
  errorText,
  outlineDraw,
} from "../assist/assist";
import type { Tool, ToolDescriptor, ToolHost, ToolPointer } from "../tool";

export const assistClickTool: ToolDescriptor = {
  name: "assist-click",
  label: "Assist click",
  key: "c",
  help: "Assist click (click the defect, Alt/Shift+click what is not; Tab shows SAM's other answers; Enter keeps, Escape drops, Backspace undoes a click)",
  cursor: "cell",
  source: "assisted",
  create: (host) => new AssistClickTool(host),
};

/** Screen px the pointer may move between press and release for it to count as a click (not a drag). */
const CLICK_SLOP_PX = 4;
const CLICK_DOT_PX = 4;

export class AssistClickTool implements Tool {
  readonly descriptor = assistClickTool;
  private positives: Point[] = [];
  private negatives: Point[] = [];
  /** The latest answer and the prompt it answered. */
  private answer: { readonly answer: AssistAnswer; readonly prompt: AssistPrompt } | null = null;
  private isAsking = false;
  /** Clicks were made while a request was out: send them when it returns. */
  private isOutdated = false;
  /** Enter came while the server was answering: keep the answer once it arrives. */
  private isKeepWanted = false;
  private downAt: Point | null = null;
  /** Bumped by cancel: an answer for an older ticket is dropped. */
  private ticket = 0;
  /** The model pre-label this drawing refines (its first click fell inside it); null: a new defect. */
  private refining: RefinedPrelabel | null = null;

  constructor(private readonly host: ToolHost) {}

  /** The pending outline, for the editor and the tests. */
  get pending(): AssistAnswer | null {
    return this.answer?.answer ?? null;
  }

  get clicks(): { readonly positive: readonly Point[]; readonly negative: readonly Point[] } {
    return { positive: this.positives, negative: this.negatives };
  }

  private get hasDrawing(): boolean {
    return this.positives.length > 0 || this.negatives.length > 0 || this.answer !== null || this.isAsking;
  }

  pointerDown(pointer: ToolPointer): void {
    this.downAt = pointer.screen;
  }

  pointerMove(): void {}

  pointerUp(pointer: ToolPointer): void {
    const downAt = this.downAt;
    this.downAt = null;
    if (!downAt || Math.hypot(pointer.screen[0] - downAt[0], pointer.screen[1] - downAt[1]) > CLICK_SLOP_PX) return;
    this.click(pointer.pixel, !(pointer.altKey || pointer.shiftKey));
  }

  /** One click: positive ("this is defect") or negative ("this is not"). */
  click(pixel: Point, isPositive: boolean): void {
    if (!this.host.assist) return this.host.notify(NO_ENGINE_MESSAGE);
    if (!isPositive && this.positives.length === 0) {
      return this.host.notify("Click on the defect first; Alt+ or Shift+click then marks what is not defect.");
    }
    if (isPositive && !this.hasDrawing) {
      this.refining = this.host.prelabelAt?.(pixel) ?? null;
      if (this.refining) this.host.assist.status("Assist: refining the model's pre-label…");
    }
    (isPositive ? this.positives : this.negatives).push(pixel);
    this.host.requestRender();
    void this.send();
  }

  /** Asks for the current clicks, unless a request is out (then once it returns). */
  async send(): Promise<void> {
    const { assist, currentClassId } = this.host;
    if (!assist) return;
    if (currentClassId === null) return this.host.notify("This project has no defect classes: ask an admin to add some.");
    if (this.isAsking) {
      this.isOutdated = true;
      return;
    }
    const ticket = this.ticket;
    const previous_geometry = this.answer?.answer.geometry ?? this.refining?.geometry ?? null;
    const prompt: AssistPrompt = { positive_clicks: [...this.positives], negative_clicks: [...this.negatives], previous_geometry };
    this.isAsking = true;
    this.isOutdated = false;
    try {
      // A browser-decoded answer is recorded while it is shown: the next one names the record it replaces.
      const previous = this.answer?.answer;
      const replaces = previous?.recorded ? await answerSuggestionId(previous) : (previous?.suggestionId ?? null);
      if (ticket !== this.ticket) return;
      const answer = await assist.ask(prompt, currentClassId, replaces);
      if (ticket !== this.ticket) return;
      this.answer = { answer, prompt };
      assist.status(answerText(answer));
    } catch (error) {
      if (ticket !== this.ticket) return;
      this.host.notify(errorText(error));
      this.isKeepWanted = false;
    } finally {
      if (ticket === this.ticket) this.isAsking = false;
    }
    this.host.requestRender();
    if (this.isOutdated && this.positives.length > 0) return this.send();
    if (this.isKeepWanted) this.keep();
  }

  /** Enter: the pending outline becomes a defect of the current class. */
  keep(): void {
    if (this.isAsking || this.isOutdated) {
      this.isKeepWanted = true; // kept when the answer to the latest click arrives
      return;
    }
    const kept = this.answer;
    const refined = this.refining?.suggestionId ?? null;
    this.reset();
    if (!kept?.answer.geometry) {
      this.host.notify("Nothing to keep: the assist found no defect there. Click on the defect, or draw it by hand.");
      return;
    }
    const { answer, prompt } = kept;
    const geometry = kept.answer.geometry;
    const create = (suggestionId: number | null): void => {
      this.host.defectCreate(geometry, { source: this.descriptor.source, provenance: assistProvenance(answer, prompt, suggestionId, refined) });
      if (refined !== null) this.host.prelabelReplaced?.(refined);
    };
    if (answer.recorded) void answerSuggestionId(answer).then(create);
    else create(answer.suggestionId);
  }

  /** Tab (Shift+Tab): the next (previous) of the engine's answers to the same clicks, where it gave several. */
  choiceStep(step: 1 | -1): boolean {
    const current = this.answer;
    if (!current || this.isAsking || !current.answer.choose || !current.answer.choices || current.answer.choices < 2) return false;
    const { choices } = current.answer;
    const index = ((current.answer.choiceIndex ?? 0) + step + choices) % choices;
    const chosen = current.answer.choose(index);
    if (!chosen) {
      // SAM's other answers are still being traced: the step is taken when they are, unless the drawing moved on.
      void current.answer.choicesReady?.then(() => this.answer === current && this.choiceStep(step));
      return true;
    }
    this.answer = { answer: chosen, prompt: current.prompt };
    this.host.assist?.status(answerText(this.answer.answer));
    this.host.requestRender();
    return true;
  }

  /** Backspace: takes back the last click (the last negative first, as the prompt replays positives first). */
  undoClick(): void {
    if (this.negatives.length) this.negatives.pop();
    else this.positives.pop();
    if (this.positives.length) void this.send();
    else this.cancel();
  }

  key(event: KeyboardEvent): boolean {
    if (!this.hasDrawing) return false;
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      this.keep();
      return true;
    }
    if (event.key === "Escape") {
      this.cancel();
      return true;
    }
    if (event.key === "Tab" && !event.ctrlKey && !event.metaKey) return this.choiceStep(event.shiftKey ? -1 : 1);
    if (event.key === "Backspace") {
      this.undoClick();
      return true;
    }
    return false;
  }

  private reset(): void {
    this.ticket += 1;
    this.positives = [];
    this.negatives = [];
    this.answer = null;
    this.refining = null;
    this.isAsking = this.isOutdated = this.isKeepWanted = false;
    this.host.requestRender();
  }

  cancel(): void {
    this.reset();
  }

  draw(context: CanvasRenderingContext2D): void {
    const toScreen = (point: Point): Point => this.host.view.vertexToScreen(point);
    const color = this.host.currentClassId ? this.host.colorOf(this.host.currentClassId) : "#fff";
    if (this.answer?.answer.geometry) outlineDraw(context, this.answer.answer.geometry, toScreen, color);
    for (const [points, fill] of [[this.positives, "#3cb44b"], [this.negatives, "#e6194b"]] as const) {
      context.fillStyle = fill;
      for (const point of points) {
        const [x, y] = toScreen(point);
        context.beginPath();
        context.arc(x, y, CLICK_DOT_PX, 0, 2 * Math.PI);
        context.fill();
      }
    }
  }
}
