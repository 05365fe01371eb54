/** The messages between the editor (samClient.ts) and the SAM Web Worker (samWorker.ts). */
import type { Polygon } from "../model/types";
import type { GeometryKind, SamPrompt } from "./prompt";

export type SamRequest =
  | { readonly id: number; readonly type: "init"; readonly decoderUrl: string; readonly wasmPaths: { readonly mjs: string; readonly wasm: string } }
  /** Fetch and keep an image's embedding (the image opened, or the next ones: a prefetch). */
  | { readonly id: number; readonly type: "embedding"; readonly key: string; readonly url: string }
  | {
      readonly id: number;
      readonly type: "decode";
      readonly key: string;
      readonly url: string;
      readonly prompt: SamPrompt;
      /** (height, width) px of the image (the encoded region is the whole image). */
      readonly imageShape: readonly [number, number];
      readonly geometryKind: GeometryKind;
      /** Also send the masks back, before and after clean-up (the parity test compares them with the server's). */
      readonly withMasks?: boolean;
    };

/** One of SAM's answers: mask token 0 (single mask) or 1-3 (multimask), its predicted IoU, its simplified outline. */
export interface SamCandidate {
  readonly token: number;
  readonly score: number;
  /** Empty: SAM found nothing. */
  readonly polygons: readonly Polygon[];
}

export type SamReply =
  | { readonly id: number; readonly ok: false; readonly error: string }
  | { readonly id: number; readonly ok: true; readonly threads?: number }
  | {
      readonly id: number;
      readonly ok: true;
      /** In the order offered: the one to show first, then (only with `withMasks`) the others. */
      readonly candidates: SamCandidate[];
      /** How many answers there are; the ones not in `candidates` follow in an `alternatives` message. */
      readonly choices: number;
      /** Row-major (H, W), one byte a pixel, in the candidates' order; only when asked: SAM's masks ... */
      readonly masks?: Uint8Array[];
      /** ... and the same after the clean-up (masks.ts), which the outlines are traced from. */
      readonly cleanedMasks?: Uint8Array[];
      readonly decodedMs: number;
      readonly totalMs: number;
    }
  /** After a decode's reply (same id): its other answers, traced once the first was on its way. */
  | { readonly id: number; readonly ok: true; readonly alternatives: SamCandidate[] };
