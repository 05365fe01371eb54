/**
 * The editor's side of the SAM Web Worker: one worker per page and installed model, kept while images open in
 * place (the decoder is loaded once; embeddings are kept for the last few images). Each call is one message and
 * its reply. When the worker or its wasm fails, `failure` says why and every call rejects: the editor then asks
 * the server (editor/assist.ts).
 */
import { api } from "../api/client";
import type { GeometryKind, SamPrompt } from "./prompt";
import type { SamCandidate, SamReply, SamRequest } from "./samProtocol";
import builtWorkerUrl from "./samWorker.ts?worker&url";

/**
 * The worker's script, and onnxruntime-web's threaded loader (from which wasm starts its threads as workers),
 * come through the editor's own URL (frontend/editor_views.py sam_worker_file): a worker of a cross-origin
 * isolated page must itself be served with Cross-Origin-Embedder-Policy, which static files are not. The
 * 15 MB .wasm is an ordinary static file (vite.config.ts copies it into the build: no CDN).
 */
const SAM_FILES_URL = "/editor/sam/";
export const SAM_WORKER_URL = SAM_FILES_URL + builtWorkerUrl.slice(builtWorkerUrl.lastIndexOf("/") + 1).replace(/\?.*$/, "");
const ORT_BUILD_URL = new URL("ort/", new URL(import.meta.url)).href;

/** Absolute URLs: the worker resolves nothing against its own. */
function ortWasmPaths(): { mjs: string; wasm: string } {
  return { mjs: absolute(`${SAM_FILES_URL}ort-wasm-simd-threaded.mjs`), wasm: `${ORT_BUILD_URL}ort-wasm-simd-threaded.wasm` };
}

export interface SamDecoded {
  /** The answer to show first (all of them when masks were asked for). */
  readonly candidates: SamCandidate[];
  readonly choices: number;
  /** The other answers, in order, once traced (right after the first). */
  readonly alternatives: Promise<SamCandidate[]>;
  readonly masks?: Uint8Array[];
  readonly cleanedMasks?: Uint8Array[];
  /** The worker's milliseconds: onnxruntime-web's run, and the run with the first answer's mask and outline. */
  readonly decodedMs: number;
  readonly workerMs: number;
}

function absolute(url: string): string {
  return new URL(url, location.href).href;
}

type Pending = { resolve(reply: SamReply): void; reject(error: Error): void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class SamBrowserDecoder {
  /** Why the browser cannot decode (the worker or its wasm failed); null while it can. */
  failure: string | null = null;
  /** Resolves with the wasm threads once the decoder is loaded; rejects when it cannot be. */
  readonly ready: Promise<number>;
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly alternativesPending = new Map<number, Pending>();

  constructor(readonly modelId: string) {
    this.worker = new Worker(absolute(SAM_WORKER_URL), { type: "module", name: "sam-decoder" });
    this.worker.onmessage = (event: MessageEvent<SamReply>) => {
      const waiting = "alternatives" in event.data ? this.alternativesPending : this.pending;
      const pending = waiting.get(event.data.id);
      waiting.delete(event.data.id);
      if (!pending) return;
      if (event.data.ok) pending.resolve(event.data);
      else pending.reject(new Error(event.data.error));
    };
    this.worker.onerror = (event) => this.fail(`the SAM worker failed: ${event.message || "it could not start"}`);
    this.ready = this.send({ type: "init", decoderUrl: absolute(api.samDecoderUrl(modelId)), wasmPaths: ortWasmPaths() }).then(
      (reply) => ("threads" in reply && reply.threads) || 1,
      (error: unknown) => {
        this.fail(`SAM's decoder could not be loaded in the browser: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      },
    );
    this.ready.catch(() => undefined); // the failure is kept in `failure`; callers see it when they ask
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    for (const waiting of [this.pending, this.alternativesPending]) {
      for (const pending of waiting.values()) pending.reject(new Error(reason));
      waiting.clear();
    }
  }

  private send(request: DistributiveOmit<SamRequest, "id">, id = this.nextId++): Promise<SamReply> {
    if (this.failure) return Promise.reject(new Error(this.failure));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private embeddingKey(imageId: number): { key: string; url: string } {
    return { key: `${this.modelId}/${imageId}`, url: absolute(api.imageEmbeddingUrl(imageId, this.modelId)) };
  }

  /** Fetches the image's embedding into the worker ahead of the first click (the image open, the next one). */
  embeddingPrefetch(imageId: number): Promise<void> {
    return this.send({ type: "embedding", ...this.embeddingKey(imageId) }).then(() => undefined);
  }

  async decode(imageId: number, prompt: SamPrompt, imageShape: readonly [number, number], geometryKind: GeometryKind, withMasks = false): Promise<SamDecoded> {
    await this.ready;
    const id = this.nextId++;
    const alternatives = new Promise<SamReply>((resolve, reject) => this.alternativesPending.set(id, { resolve, reject }));
    alternatives.catch(() => undefined); // a failed decode rejects it too: nobody waits for it then
    const reply = await this.send({ type: "decode", ...this.embeddingKey(imageId), prompt, imageShape, geometryKind, withMasks }, id);
    if (!("candidates" in reply)) throw new Error("the SAM worker answered without masks");
    if (reply.candidates.length === reply.choices) this.alternativesPending.delete(id);
    return {
      candidates: reply.candidates,
      choices: reply.choices,
      alternatives: reply.candidates.length === reply.choices ? Promise.resolve(reply.candidates.slice(1)) : alternatives.then((later) => ("alternatives" in later ? later.alternatives : [])),
      masks: reply.masks,
      cleanedMasks: reply.cleanedMasks,
      decodedMs: reply.decodedMs,
      workerMs: reply.totalMs,
    };
  }

  terminate(): void {
    this.fail("the SAM worker was stopped");
    this.worker.terminate();
  }
}

const decoders = new Map<string, SamBrowserDecoder>();

/** The page's decoder for `modelId` (another model installed meanwhile: a new worker, the old one stopped). */
export function samDecoderFor(modelId: string): SamBrowserDecoder {
  let decoder = decoders.get(modelId);
  if (!decoder) {
    for (const old of decoders.values()) old.terminate();
    decoders.clear();
    decoder = new SamBrowserDecoder(modelId);
    decoders.set(modelId, decoder);
  }
  return decoder;
}
