/**
 * What the assist tools (assist box, assist click) share: the prompt they send, the answer they get, the host
 * that asks the server for them (editor/assist.ts; a fake in the tests), and the provenance a kept answer is saved
 * with. The engine runs on the server (POST /api/v1/images/{id}/assist/): the tools never see pixels.
 */
import type { Geometry, Point } from "../../model/types";
import type { Provenance } from "../../state/store";

/** A box (x0, y0, x1, y1: pixel centres, both corners included) and/or clicks, in image px. */
export interface AssistPrompt {
  readonly box?: readonly [number, number, number, number];
  readonly positive_clicks?: readonly Point[];
  readonly negative_clicks?: readonly Point[];
}

export interface AssistAnswer {
  /** The server's record of this answer; the kept defect's provenance names it (null: nothing was found). */
  readonly suggestionId: number | null;
  readonly engine: string;
  readonly score: number;
  /** The engine's outline, few vertices; null when it found nothing there. */
  readonly geometry: Geometry | null;
  readonly ms: number;
}

/** The editor's side of the assist, as the tools see it. */
export interface AssistHost {
  /**
   * Asks the engine about `prompt` for the defect class `defectClassId`; `replaces` is the previous answer of the
   * same drawing (the click tool's). Rejects with an Error whose message is for the inspector (no engine, 400...).
   */
  ask(prompt: AssistPrompt, defectClassId: number, replaces: number | null): Promise<AssistAnswer>;
  /** The status line: which engine answered, how sure, how fast. */
  status(message: string): void;
}

export const NO_ENGINE_MESSAGE = "No assist engine is available on this server: draw the defect by hand.";

/** How a kept answer was made, as Annotation.provenance stores it. */
export function assistProvenance(answer: AssistAnswer, prompt: AssistPrompt): Provenance {
  return {
    engine: answer.engine,
    prompt: {
      box: prompt.box ? [...prompt.box] : null,
      positive_clicks: (prompt.positive_clicks ?? []).map(([x, y]) => [x, y]),
      negative_clicks: (prompt.negative_clicks ?? []).map(([x, y]) => [x, y]),
    },
    score: answer.score,
    suggestion_id: answer.suggestionId,
  };
}

/** The status line after an answer. */
export function answerText(answer: AssistAnswer): string {
  const found = answer.geometry ? `score ${answer.score.toFixed(2)}` : "nothing found";
  return `Assist: ${answer.engine} · ${found} · ${Math.round(answer.ms)} ms`;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Paints an answer's outline dashed in screen space: a suggestion, not yet a defect. */
export function outlineDraw(context: CanvasRenderingContext2D, geometry: Geometry, toScreen: (point: Point) => Point, color: string): void {
  context.save();
  context.strokeStyle = color;
  context.lineWidth = 2;
  context.setLineDash([6, 4]);
  context.beginPath();
  for (const polygon of geometry.polygons) {
    for (const ring of [polygon.exterior, ...polygon.holes]) {
      ring.forEach((vertex, index) => {
        const [x, y] = toScreen(vertex);
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.closePath();
    }
  }
  context.stroke();
  context.restore();
}
