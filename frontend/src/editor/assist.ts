/**
 * The editor's connection to the assist engines (AssistHost of the assist tools): which engine the project uses
 * (asked once per project), each prompt answered, and the status line that says which engine answered, where,
 * or that none is available.
 *
 * SAM is decoded in the browser when the server has it installed: the installed int8 decoder runs in a Web Worker
 * (src/sam/) on the image's fp16 embedding, fetched when the image opens (and the next image's, ahead of it). The
 * outline is shown at once and recorded on the server meanwhile (POST .../assist/record/), so the statistics count
 * it as they count the server's answers. When the worker or its wasm fails, or the image's embedding cannot be
 * served (an image larger than one SAM tile), the server's endpoint answers instead, and the status line says so.
 */
import { type AssistEngines, type EditorBundle, api, errorMessage } from "../api/client";
import type { Geometry } from "../model/types";
import type { GeometryKind } from "../sam/prompt";
import { type SamDecoded, samDecoderFor } from "../sam/samClient";
import type { SamCandidate } from "../sam/samProtocol";
import { type AssistAnswer, type AssistHost, type AssistPrompt, NO_ENGINE_MESSAGE } from "../tools/assist/assist";
import type { Taxonomy } from "./taxonomy";

const SAM = "sam";

export interface AssistRecordInput {
  readonly engine: string;
  readonly prompt: AssistPrompt & { readonly defect_class_id: number };
  readonly score: number;
  readonly geometry: Geometry | null;
  readonly replaces: number | null;
}

/** What the connection needs of the server; `api` in the editor, a fake in the tests. */
export interface AssistServer {
  engines(projectId: number): Promise<AssistEngines>;
  run(imageId: number, engine: string, prompt: AssistPrompt & { readonly defect_class_id: number }, replaces: number | null): Promise<AssistAnswer>;
  /** Records an answer decoded in the browser; its suggestion id (null: nothing was found, only `replaces` ends). */
  record(imageId: number, input: AssistRecordInput): Promise<number | null>;
}

function promptBody(prompt: AssistPrompt & { readonly defect_class_id: number }) {
  return {
    defect_class_id: prompt.defect_class_id,
    box: prompt.box ? [...prompt.box] : null,
    positive_clicks: (prompt.positive_clicks ?? []).map(([x, y]) => [x, y]),
    negative_clicks: (prompt.negative_clicks ?? []).map(([x, y]) => [x, y]),
  };
}

export const apiAssistServer: AssistServer = {
  engines: (projectId) => api.assistEngineList(projectId),
  run: async (imageId, engine, prompt, replaces) => {
    const body = await api.assistRun(imageId, engine, promptBody(prompt), replaces, prompt.previous_geometry ?? null);
    return { suggestionId: body.suggestion_id, engine: body.engine, modelId: body.model_id, score: body.score, geometry: body.geometry, ms: body.ms };
  },
  record: async (imageId, input) => {
    const body = await api.assistRecord(imageId, {
      engine: input.engine,
      prompt: promptBody(input.prompt),
      score: input.score,
      geometry: input.geometry,
      replaces_suggestion_id: input.replaces,
    });
    return body.suggestion_id ?? null;
  },
};

/** SAM's decoder in the browser, as the connection uses it (samClient.ts; a fake in the tests). */
export interface BrowserSam {
  readonly failure: string | null;
  /** Settles once the decoder is loaded (rejects when it cannot be: `failure` says why). */
  readonly ready?: Promise<unknown>;
  embeddingPrefetch(imageId: number): Promise<void>;
  decode(imageId: number, prompt: AssistPrompt, imageShape: readonly [number, number], geometryKind: GeometryKind): Promise<SamDecoded>;
}

/** The page's SAM worker for the installed model, or null where the browser has no workers. */
export function browserSamFor(modelId: string): BrowserSam | null {
  return typeof Worker === "undefined" ? null : samDecoderFor(modelId);
}

export interface AssistImage {
  readonly width: number;
  readonly height: number;
  /** The images the inspector will probably open next: their embeddings are fetched ahead. */
  readonly nextImageIds: readonly number[];
  geometryKindOf(defectClassId: number): GeometryKind;
}

/** The editor's image as the assist sees it. */
export function assistImageOf(bundle: EditorBundle, taxonomy: Taxonomy): AssistImage {
  return {
    width: bundle.image.width,
    height: bundle.image.height,
    nextImageIds: bundle.queue.next_image_id ? [bundle.queue.next_image_id] : [],
    geometryKindOf: (defectClassId) => (taxonomy.get(defectClassId)?.geometry_kind === "linear" ? "linear" : "area"),
  };
}

/**
 * Main-thread milliseconds from a prompt to its outline, where it was decoded, and for the browser the decoder's
 * own share (onnxruntime-web's run, without the embedding's wait and the tracing) and the worker's (the run, then the
 * shown answer's upscaling, clean-up and outline); bench/assist.py reads them.
 */
export const assistTimings: Array<{ readonly ms: number; readonly where: "browser" | "server"; readonly decodeMs?: number; readonly workerMs?: number }> = [];

/** " · SAM is not installed" for each engine the server knows but cannot run (its reason's first clause). */
export function unavailableNote(engines: AssistEngines): string {
  return (engines.unavailable ?? []).map((item) => ` · ${item.reason.split(":")[0]}`).join("");
}

const enginesByProject = new Map<number, Promise<AssistEngines>>();

export class AssistConnection implements AssistHost {
  /** The engine the tools use: null while unknown or when the server has none. */
  engine: string | null = null;
  /** SAM's decoder in this browser, when SAM is the engine and the browser can run it. */
  sam: BrowserSam | null = null;
  /** Why this image's SAM prompts go to the server (the worker failed, no embedding for this image). */
  browserProblem: string | null = null;
  readonly ready: Promise<void>;

  constructor(
    private readonly projectId: number,
    private readonly imageId: number,
    private readonly show: (message: string) => void,
    private readonly server: AssistServer = apiAssistServer,
    private readonly image: AssistImage | null = null,
    private readonly samFor: (modelId: string) => BrowserSam | null = browserSamFor,
    private readonly after: Promise<void> = Promise.resolve(), // the editor's first paint: the tiles go first
  ) {
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    await this.after;
    let engines = enginesByProject.get(this.projectId);
    if (!engines) {
      engines = this.server.engines(this.projectId);
      enginesByProject.set(this.projectId, engines);
      engines.catch(() => enginesByProject.delete(this.projectId)); // asked again with the next image
    }
    try {
      const list = await engines;
      this.engine = list.preferred ?? null;
      if (this.engine === SAM && list.sam_model_id && this.image) this.samOpen(list.sam_model_id, this.image);
      this.show(this.engineText() + unavailableNote(list));
    } catch (error) {
      this.show(`Assist unavailable: ${errorMessage(error)}`);
    }
  }

  /** Starts the worker (once a page) and fetches this image's embedding, then the next images'. */
  private samOpen(modelId: string, image: AssistImage): void {
    this.sam = this.samFor(modelId);
    if (!this.sam) return;
    this.sam.ready?.catch(() => this.show(this.engineText())); // the status line says the server answers, and why
    this.sam.embeddingPrefetch(this.imageId).then(
      () => image.nextImageIds.forEach((id) => this.sam?.embeddingPrefetch(id).catch(() => undefined)),
      (error: unknown) => {
        this.browserProblem = errorMessage(error);
        this.show(this.engineText());
      },
    );
  }

  private get isBrowserDecoding(): boolean {
    return !!this.sam && !this.sam.failure && !this.browserProblem;
  }

  private engineText(): string {
    if (!this.engine) return "Assist: no engine available";
    if (this.engine !== SAM || !this.sam) return `Assist: ${this.engine}`;
    if (this.isBrowserDecoding) return `Assist: ${this.engine} (in the browser)`;
    return `Assist: ${this.engine} (on the server: ${this.sam.failure ?? this.browserProblem})`;
  }

  async ask(prompt: AssistPrompt, defectClassId: number, replaces: number | null): Promise<AssistAnswer> {
    await this.ready;
    if (!this.engine) throw new Error(NO_ENGINE_MESSAGE);
    const started = performance.now();
    if (this.isBrowserDecoding && this.image) {
      try {
        const [answer, decoded] = await this.browserAsk(this.image, prompt, defectClassId, replaces);
        assistTimings.push({ ms: performance.now() - started, where: "browser", decodeMs: decoded.decodedMs, workerMs: decoded.workerMs });
        return answer;
      } catch (error) {
        // The worker, its wasm or this image's embedding failed: the server answers from now on.
        this.browserProblem ??= this.sam?.failure ?? errorMessage(error);
      }
    }
    this.show(`${this.engineText()} · asking…`);
    try {
      const answer = await this.server.run(this.imageId, this.engine, { ...prompt, defect_class_id: defectClassId }, replaces);
      assistTimings.push({ ms: performance.now() - started, where: "server" });
      return answer;
    } catch (error) {
      this.show(this.engineText());
      throw new Error(errorMessage(error));
    }
  }

  /** The answer decoded in the browser, and the worker's own milliseconds. */
  private async browserAsk(
    image: AssistImage,
    prompt: AssistPrompt,
    defectClassId: number,
    replaces: number | null,
  ): Promise<[AssistAnswer, Pick<SamDecoded, "decodedMs" | "workerMs">]> {
    const started = performance.now();
    const decoded = await this.sam!.decode(this.imageId, prompt, [image.height, image.width], image.geometryKindOf(defectClassId));
    const ms = performance.now() - started;
    const engine = this.engine!;
    // The other answers arrive traced just after the first: until then Tab waits.
    let candidates: readonly SamCandidate[] = decoded.candidates;
    const choicesReady = decoded.alternatives.then(
      (rest) => (candidates = [decoded.candidates[0]!, ...rest]),
      () => undefined,
    );
    const choose = (index: number, replaced: Promise<number | null>): AssistAnswer => {
      const candidate = candidates[index]!;
      const geometry = candidate.polygons.length ? { polygons: candidate.polygons } : null;
      const recorded = replaced
        .then((replacedId) => this.server.record(this.imageId, { engine, prompt: { ...prompt, defect_class_id: defectClassId }, score: candidate.score, geometry, replaces: replacedId }))
        .catch(() => null); // not recorded: the kept defect names no suggestion, as a hand-drawn one
      return {
        suggestionId: null,
        recorded,
        engine,
        where: "browser",
        score: candidate.score,
        geometry,
        ms,
        choices: decoded.choices,
        choiceIndex: index,
        choose: (next) => (next < candidates.length ? choose(next, recorded) : null),
        choicesReady,
      };
    };
    return [choose(0, Promise.resolve(replaces)), decoded];
  }

  status(message: string): void {
    this.show(message);
  }
}
