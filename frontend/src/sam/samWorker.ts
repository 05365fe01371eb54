/**
 * The Web Worker that decodes SAM prompts in the browser: onnxruntime-web (wasm; 2 threads where the editor page is
 * cross-origin isolated, else 1) runs the installed int8 decoder on the image's fp16 embedding, both fetched from
 * the server; the masks are traced and simplified here, off the main thread. Messages: samProtocol.ts.
 *
 * onnxruntime-web's own files (ort-wasm-simd-threaded.mjs and .wasm) come from our own server (samClient.ts says
 * where): the plant has no internet, so nothing is fetched from a CDN.
 */
import * as ort from "onnxruntime-web/wasm";
import { maskToPolygons } from "../model/mask";
import type { Polygon } from "../model/types";
import { EMBEDDING_SHAPE, LOW_RES_SIDE_PX, maskBounds, npyFloat16Read, polygonsSimplify, promptArrays, tokenOrder } from "./prompt";
import type { SamCandidate, SamReply, SamRequest } from "./samProtocol";

const EMBEDDINGS_KEPT = 4; // the image open, the next ones prefetched and the previous: 4 MB each as float32
const THREADS_ISOLATED = 2; // the machine's cores are shared with the server and the inspector's other tabs

let session: Promise<ort.InferenceSession> | null = null;
const embeddings = new Map<string, Promise<ort.Tensor>>(); // insertion order is recency (LRU)

function sessionOpen(decoderUrl: string, wasmPaths: { readonly mjs: string; readonly wasm: string }): Promise<ort.InferenceSession> {
  ort.env.wasm.wasmPaths = { ...wasmPaths };
  ort.env.wasm.numThreads = self.crossOriginIsolated ? THREADS_ISOLATED : 1;
  ort.env.wasm.proxy = false; // this is already a worker
  return ort.InferenceSession.create(decoderUrl, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
}

async function embeddingFetch(url: string): Promise<ort.Tensor> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const body = await response.text();
    let message = `${response.status}`;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // not JSON: the status is all there is
    }
    throw new Error(`the image's SAM embedding could not be loaded (${message})`);
  }
  const { data, shape } = npyFloat16Read(await response.arrayBuffer());
  if (shape.join(",") !== EMBEDDING_SHAPE.join(",")) throw new Error(`the embedding has shape ${shape}, not ${EMBEDDING_SHAPE}`);
  return new ort.Tensor("float32", data, [...EMBEDDING_SHAPE]);
}

function embeddingGet(key: string, url: string): Promise<ort.Tensor> {
  let embedding = embeddings.get(key);
  if (embedding) {
    embeddings.delete(key); // most recent last
  } else {
    embedding = embeddingFetch(url);
    embedding.catch(() => embeddings.delete(key)); // asked again next time
  }
  embeddings.set(key, embedding);
  while (embeddings.size > EMBEDDINGS_KEPT) embeddings.delete(embeddings.keys().next().value!);
  return embedding;
}

/**
 * The decoder's answers to a prompt. The one shown first is traced at once; the others (Tab) are traced after the
 * reply has gone (`later`), so the click waits for one outline, not three. With `withMasks` all come at once.
 */
async function decode(request: Extract<SamRequest, { type: "decode" }>): Promise<{ reply: SamReply; later?: () => SamReply }> {
  if (!session) throw new Error("the SAM decoder was not initialised");
  const decoder = await session;
  const embedding = await embeddingGet(request.key, request.url);
  const started = performance.now();
  const [height, width] = request.imageShape;
  const { coords, labels } = promptArrays(request.prompt, request.imageShape);
  const outputs = await decoder.run({
    image_embeddings: embedding,
    point_coords: new ort.Tensor("float32", coords, [1, labels.length, 2]),
    point_labels: new ort.Tensor("float32", labels, [1, labels.length]),
    mask_input: new ort.Tensor("float32", new Float32Array(LOW_RES_SIDE_PX * LOW_RES_SIDE_PX), [1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX]),
    has_mask_input: new ort.Tensor("float32", new Float32Array([0]), [1]),
    orig_im_size: new ort.Tensor("float32", new Float32Array([height, width]), [2]),
  });
  const decodedMs = performance.now() - started;
  const logits = outputs.masks!.data as Float32Array; // (1, 4, H, W)
  const scores = outputs.iou_predictions!.data as Float32Array; // (1, 4)
  const pixels = height * width;
  const masks = tokenOrder(scores, request.prompt).map((token) => {
    const mask = new Uint8Array(pixels);
    const offset = token * pixels;
    for (let index = 0; index < pixels; index += 1) mask[index] = logits[offset + index]! > 0 ? 1 : 0; // Sam.mask_threshold
    return { token, score: Math.min(1, Math.max(0, scores[token]!)), mask };
  });
  for (const output of Object.values(outputs)) output.dispose();
  const candidate = ({ token, score, mask }: (typeof masks)[number]): SamCandidate => ({ token, score, polygons: outline(mask, width, height, request.geometryKind) });
  const traced = request.withMasks ? masks : masks.slice(0, 1);
  const reply: SamReply = {
    id: request.id,
    ok: true,
    candidates: traced.map(candidate),
    choices: masks.length,
    masks: request.withMasks ? masks.map(({ mask }) => mask) : undefined,
    decodedMs,
    totalMs: performance.now() - started,
  };
  if (request.withMasks) return { reply };
  return { reply, later: () => ({ id: request.id, ok: true, alternatives: masks.slice(1).map(candidate) }) };
}

/** The mask's polygons, traced on its bounding box (as the server's mask_to_polygons) and simplified. */
function outline(mask: Uint8Array, width: number, height: number, kind: "area" | "linear"): Polygon[] {
  const bounds = maskBounds(mask, width, height);
  if (!bounds) return [];
  const crop = new Uint8Array(bounds.width * bounds.height);
  for (let row = 0; row < bounds.height; row += 1) {
    const from = (bounds.y + row) * width + bounds.x;
    crop.set(mask.subarray(from, from + bounds.width), row * bounds.width);
  }
  return polygonsSimplify(maskToPolygons({ ...bounds, data: crop }), kind);
}

async function handle(request: SamRequest): Promise<{ reply: SamReply; later?: () => SamReply }> {
  switch (request.type) {
    case "init":
      session ??= sessionOpen(request.decoderUrl, request.wasmPaths);
      session.catch(() => (session = null));
      await session;
      return { reply: { id: request.id, ok: true, threads: ort.env.wasm.numThreads ?? 1 } };
    case "embedding":
      await embeddingGet(request.key, request.url);
      return { reply: { id: request.id, ok: true } };
    case "decode":
      return decode(request);
  }
}

self.onmessage = (event: MessageEvent<SamRequest>): void => {
  handle(event.data).then(
    ({ reply, later }) => {
      const transfer = "masks" in reply && reply.masks ? reply.masks.map((mask) => mask.buffer as ArrayBuffer) : [];
      self.postMessage(reply, { transfer });
      if (later) self.postMessage(later());
    },
    (error: unknown) => self.postMessage({ id: event.data.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies SamReply),
  );
};
