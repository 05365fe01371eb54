/** Drawing on the QA pages' canvases, with the editor's conventions (overlay.ts): a vertex is a pixel centre. */
import { geometryPath } from "../editor/overlay";
import type { Geometry } from "../model/types";

/** Outlines are about this fraction of the image's width (at least 1 px), so they show at any size. */
const OUTLINE_WIDTH_FRACTION = 1 / 600;

export function outlineWidthPx(imageWidth: number): number {
  return Math.max(1, imageWidth * OUTLINE_WIDTH_FRACTION);
}

export function imageLoad(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`the image ${url} did not load`));
    image.src = url;
  });
}

/** Strokes every ring (exteriors and holes) of the geometry, in image pixels. */
export function geometryStroke(
  context: CanvasRenderingContext2D,
  geometry: Geometry,
  color: string,
  lineWidth: number,
): void {
  context.save();
  context.strokeStyle = color;
  context.lineWidth = lineWidth;
  context.stroke(geometryPath(geometry));
  context.restore();
}
