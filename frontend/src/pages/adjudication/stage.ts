/**
 * The adjudication stage: the image, the pixels only A, only B or both marked (the server's difference runs),
 * and A's and B's outlines, each layer shown or hidden by its `[data-layer]` checkbox.
 */
import type { AdjudicationDetail } from "../../api/client";
import { type Rgba, maskPaint, rleToMask } from "../../model/rle";
import { geometryStroke, outlineWidthPx } from "../canvas";
import { SIDES, type Side } from "./choices";

type DifferenceLayer = "both" | "only_first" | "only_second";
export type Layer = Side | DifferenceLayer;

const OUTLINE_COLORS: Readonly<Record<Side, string>> = { first: "#1f6feb", second: "#f08c00" };
/** Painted in this order, each over the one before: a pixel is in exactly one of them anyway. */
const DIFFERENCE_COLORS: ReadonlyArray<readonly [DifferenceLayer, Rgba]> = [
  ["both", [140, 70, 200, 90]],
  ["only_first", [31, 111, 235, 120]],
  ["only_second", [240, 140, 0, 120]],
];

/** The layers whose checkboxes are ticked. */
export function layersShown(root: ParentNode = document): ReadonlySet<Layer> {
  const shown = new Set<Layer>();
  for (const box of root.querySelectorAll<HTMLInputElement>("[data-layer]")) {
    if (box.checked) shown.add(box.dataset.layer as Layer);
  }
  return shown;
}

export function stageDraw(
  canvas: HTMLCanvasElement,
  view: AdjudicationDetail,
  image: CanvasImageSource,
  shown: ReadonlySet<Layer>,
): void {
  const { width, height } = view.difference;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d")!;
  context.drawImage(image, 0, 0, width, height);
  const overlay = context.createImageData(width, height);
  for (const [layer, color] of DIFFERENCE_COLORS) {
    if (shown.has(layer)) maskPaint(overlay, rleToMask(view.difference[layer], width, height), color);
  }
  // putImageData would replace the image's pixels; drawing from a scratch canvas blends the overlay over them.
  const scratch = document.createElement("canvas");
  scratch.width = width;
  scratch.height = height;
  scratch.getContext("2d")!.putImageData(overlay, 0, 0);
  context.drawImage(scratch, 0, 0);
  for (const [side] of SIDES) {
    if (!shown.has(side)) continue;
    for (const annotation of view[side]) {
      geometryStroke(context, annotation.geometry, OUTLINE_COLORS[side], outlineWidthPx(width));
    }
  }
}
