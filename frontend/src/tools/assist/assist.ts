/**
 * What the assist tools (assist box, assist click) share: the prompt they send, the answer they get, the host
 * that asks the server for them (editor/assist.ts; a fake in the tests), and the provenance a kept answer is saved
 * with. The engine runs on the server (POST /api/v1/images/{id}/assist/), or for SAM in the editor's Web Worker
 * (src/sam/): either way the tools never see pixels, only outlines.
 */
import type { Geometry, Point } from "../../model/types";
import type { Provenance } from "../../state/store";

/** A box (x0, y0, x1, y1: pixel centres, both corners included) and/or clicks, in image px. */
export interface AssistPrompt {
  readonly box?: readonly [number, number, number, number];
  readonly positive_clicks?: readonly Point[];
  readonly negative_clicks?: readonly Point[];
  /**
   * The outline being corrected: the last answer of the same drawing, or a model pre-label the inspector refines.
   * The interactive model reads it as its previous mask; other engines ignore it. Not part of the provenance.
   */
  readonly previous_geometry?: Geometry | null;
}

/** A model pre-label the click tool refines: its first click starts from the pre-label's outline. */
export interface RefinedPrelabel {
  readonly suggestionId: number;
  readonly geometry: Geometry;
}

export interface AssistAnswer {
  /** The server's record of this answer; the kept defect's provenance names it (null: nothing was found). */
  readonly suggestionId: number | null;
  /**
   * An answer decoded in the browser is shown first and recorded on the server meanwhile: its suggestion id
   * arrives here (null when it could not be recorded). Absent: `suggestionId` is the record.
   */
  readonly recorded?: Promise<number | null>;
  readonly engine: string;
  /** The trained model that answered (engines "model-<id>", "interactive-<id>"); absent or null: none. */
  readonly modelId?: number | null;
  /** Where the engine ran: "browser" for SAM's decoder in the editor's Web Worker; absent for the server. */
  readonly where?: "browser";
  readonly score: number;
  /** The engine's outline, few vertices; null when it found nothing there. */
  readonly geometry: Geometry | null;
  readonly ms: number;
  /** Several answers to one prompt (SAM's multimask output): how many, which one this is (0: the best). */
  readonly choices?: number;
  readonly choiceIndex?: number;
  /** The answer `index` of the same prompt instead of this one (recorded as replacing it); null while not ready. */
  choose?(index: number): AssistAnswer | null;
  /** Settles once every answer can be chosen (SAM's others are traced just after the first). */
  readonly choicesReady?: Promise<unknown>;
}

/** The server's record of an answer, once there is one (see AssistAnswer.recorded). */
export async function answerSuggestionId(answer: AssistAnswer): Promise<number | null> {
  return answer.recorded ? answer.recorded.catch(() => null) : answer.suggestionId;
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
export function assistProvenance(
  answer: AssistAnswer,
  prompt: AssistPrompt,
  suggestionId: number | null = answer.suggestionId,
  refines: number | null = null,
): Provenance {
  return {
    engine: answer.engine,
    ...(answer.modelId != null ? { model_id: answer.modelId } : {}),
    prompt: {
      box: prompt.box ? [...prompt.box] : null,
      positive_clicks: (prompt.positive_clicks ?? []).map(([x, y]) => [x, y]),
      negative_clicks: (prompt.negative_clicks ?? []).map(([x, y]) => [x, y]),
    },
    score: answer.score,
    suggestion_id: suggestionId,
    ...(refines !== null ? { refines_suggestion_id: refines } : {}),
  };
}

/** The status line after an answer. */
export function answerText(answer: AssistAnswer): string {
  const found = answer.geometry ? `score ${answer.score.toFixed(2)}` : "nothing found";
  const where = answer.where === "browser" ? " (in the browser)" : "";
  const choices = answer.choices && answer.choices > 1 ? ` · answer ${(answer.choiceIndex ?? 0) + 1} of ${answer.choices} (Tab: next)` : "";
  return `Assist: ${answer.engine}${where} · ${found} · ${Math.round(answer.ms)} ms${choices}`;
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
