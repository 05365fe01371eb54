/**
 * The view transform. Image space: pixel (x, y) covers [x, x + 1) x [y, y + 1), so a vertex (a pixel centre, see
 * model/types.ts) sits at (x + 0.5, y + 0.5). Screen = (image - offset) * scale, in CSS pixels.
 */
import type { Point } from "../model/types";

export const MIN_SCALE = 1 / 256;
export const MAX_SCALE = 64; // one image pixel as 64 screen pixels: enough to place vertices on 1-px cracks
const FIT_MARGIN_PX = 16;

export class Viewport {
  scale = 1;
  offsetX = 0;
  offsetY = 0;
  width = 1;
  height = 1;

  constructor(
    readonly imageWidth: number,
    readonly imageHeight: number,
  ) {}

  resize(width: number, height: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
  }

  toScreen(x: number, y: number): Point {
    return [(x - this.offsetX) * this.scale, (y - this.offsetY) * this.scale];
  }

  /** Continuous image-space position under a screen point. */
  toImage(x: number, y: number): Point {
    return [x / this.scale + this.offsetX, y / this.scale + this.offsetY];
  }

  /** The pixel-centre vertex position (model coordinates) drawn at a screen point. */
  vertexToScreen(vertex: Point): Point {
    return this.toScreen(vertex[0] + 0.5, vertex[1] + 0.5);
  }

  fit(): void {
    const scale = Math.min(
      (this.width - 2 * FIT_MARGIN_PX) / this.imageWidth,
      (this.height - 2 * FIT_MARGIN_PX) / this.imageHeight,
    );
    this.scale = clamp(scale, MIN_SCALE, MAX_SCALE);
    this.offsetX = this.imageWidth / 2 - this.width / 2 / this.scale;
    this.offsetY = this.imageHeight / 2 - this.height / 2 / this.scale;
  }

  /** One image pixel per screen pixel, keeping the centre of the view where it is. */
  oneToOne(): void {
    this.zoomAt(1 / this.scale, this.width / 2, this.height / 2);
  }

  zoomAt(factor: number, screenX: number, screenY: number): void {
    const [x, y] = this.toImage(screenX, screenY);
    this.scale = clamp(this.scale * factor, MIN_SCALE, MAX_SCALE);
    this.offsetX = x - screenX / this.scale;
    this.offsetY = y - screenY / this.scale;
  }

  panBy(screenDx: number, screenDy: number): void {
    this.offsetX -= screenDx / this.scale;
    this.offsetY -= screenDy / this.scale;
  }

  centerOn(x: number, y: number): void {
    this.offsetX = x - this.width / 2 / this.scale;
    this.offsetY = y - this.height / 2 / this.scale;
  }

  /** The visible part of the image, in image space. */
  visible(): { minX: number; minY: number; maxX: number; maxY: number } {
    return { minX: this.offsetX, minY: this.offsetY, maxX: this.offsetX + this.width / this.scale, maxY: this.offsetY + this.height / this.scale };
  }
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
