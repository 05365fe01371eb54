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
import { minRegionPxFor, placeInto, smallRegionsRemove, Upscaling, type Window } from "./masks";
import { EMBEDDING_SHAPE, LOW_RES_SIDE_PX, npyFloat16Read, polygonsSimplify, promptArrays, tokenOrder } from "./prompt";
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
 * The decoder's answers to a prompt. The decoder stops at its low-resolution logits (the install cuts the graph);
 * each answer is upscaled over its own window, cleaned and traced here (masks.ts, as the server's masks.py). The one
 * shown first is done at once; the others (Tab) after the reply has gone (`later`), so the click waits for one
 * outline, not three. With `withMasks` all come at once, with their whole-image masks before and after clean-up.
 */
async function decode(request: Extract<SamRequest, { type: "decode" }>): Promise<{ reply: SamReply; later?: () => SamReply }> {
  if (!session) throw new Error("the SAM decoder was not initialised");
  const decoder = await session;
  const embedding = await embeddingGet(request.key, request.url);
  const started = performance.now();
  const [height, width] = request.imageShape;
  const { coords, labels } = promptArrays(request.prompt, request.imageShape);
  const feeds: Record<string, ort.Tensor> = {
    image_embeddings: embedding,
    point_coords: new ort.Tensor("float32", coords, [1, labels.length, 2]),
    point_labels: new ort.Tensor("float32", labels, [1, labels.length]),
    mask_input: new ort.Tensor("float32", noMaskInput, [1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX]),
    has_mask_input: new ort.Tensor("float32", new Float32Array([0]), [1]),
  };
  // A decoder installed before the graph was cut still takes the image size (and upscales in vain).
  if (decoder.inputNames.includes("orig_im_size")) feeds.orig_im_size = new ort.Tensor("float32", new Float32Array([height, width]), [2]);
  const outputs = await decoder.run(feeds, ["iou_predictions", "low_res_masks"]);
  const decodedMs = performance.now() - started;
  const lowRes = outputs.low_res_masks!.data as Float32Array; // (1, 4, 256, 256)
  const scores = Float32Array.from(outputs.iou_predictions!.data as Float32Array); // (1, 4)
  for (const output of Object.values(outputs)) output.dispose();
  const upscaling = upscalingFor(height, width);
  const minRegionPx = minRegionPxFor(request.prompt.box, height, width);
  const cells = LOW_RES_SIDE_PX * LOW_RES_SIDE_PX;
  const answer = (token: number) => {
    const logits = lowRes.subarray(token * cells, (token + 1) * cells);
    const window = upscaling.window(logits);
    const raw = window ? upscaling.windowMask(logits, window) : null;
    const cleaned = window && raw ? smallRegionsRemove(raw, window, minRegionPx, request.prompt.positive_clicks ?? [], request.prompt.negative_clicks ?? []) : null;
    return { token, score: Math.min(1, Math.max(0, scores[token]!)), window, raw, cleaned };
  };
  const candidate = ({ token, score, window, cleaned }: ReturnType<typeof answer>): SamCandidate => ({
    token,
    score,
    polygons: window && cleaned ? polygonsSimplify(maskToPolygons({ ...window, data: cleaned }), request.geometryKind) : [],
  });
  const whole = (mask: Uint8Array | null, window: Window | null): Uint8Array => {
    const full = new Uint8Array(height * width);
    if (mask && window) placeInto(full, width, mask, window);
    return full;
  };
  const order = tokenOrder(scores, request.prompt);
  if (request.withMasks) {
    const answers = order.map(answer);
    const reply: SamReply = {
      id: request.id,
      ok: true,
      candidates: answers.map(candidate),
      choices: answers.length,
      masks: answers.map(({ raw, window }) => whole(raw, window)),
      cleanedMasks: answers.map(({ cleaned, window }) => whole(cleaned, window)),
      decodedMs,
      totalMs: performance.now() - started,
    };
    return { reply };
  }
  const first = candidate(answer(order[0]!));
  const reply: SamReply = { id: request.id, ok: true, candidates: [first], choices: order.length, decodedMs, totalMs: performance.now() - started };
  return { reply, later: () => ({ id: request.id, ok: true, alternatives: order.slice(1).map((token) => candidate(answer(token))) }) };
}

const noMaskInput = new Float32Array(LOW_RES_SIDE_PX * LOW_RES_SIDE_PX); // has_mask_input 0: never read
let upscaling: Upscaling | null = null;

/** The upscaling of this image size, kept while images of one size follow each other. */
function upscalingFor(height: number, width: number): Upscaling {
  if (!upscaling || upscaling.height !== height || upscaling.width !== width) upscaling = new Upscaling(height, width);
  return upscaling;
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
      const transfer = "masks" in reply && reply.masks ? [...reply.masks, ...(reply.cleanedMasks ?? [])].map((mask) => mask.buffer as ArrayBuffer) : [];
      self.postMessage(reply, { transfer });
      if (later) self.postMessage(later());
    },
    (error: unknown) => self.postMessage({ id: event.data.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies SamReply),
  );
};
