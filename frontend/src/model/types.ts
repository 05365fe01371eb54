/**
 * Geometry shapes shared with the server (annotation/geometry.py, docs/adr/0001-geometry-conventions.md).
 *
 * A vertex (x, y) is the centre of pixel column x, row y; (0, 0) is the top-left pixel. A ring has at least
 * three vertices and is not closed by repeating its first vertex.
 */
export type Point = readonly [number, number];
export type Ring = readonly Point[];

export interface Polygon {
  readonly exterior: Ring;
  readonly holes: readonly Ring[];
}

/** The JSON stored with every annotation: {"polygons": [{"exterior": [[x, y], ...], "holes": [...]}]}. */
export interface Geometry {
  readonly polygons: readonly Polygon[];
}

/** A pixel-extent box (COCO's): a one-pixel defect at (3, 4) has box (3, 4, 1, 1). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A binary mask covering `width` x `height` pixels whose top-left pixel is image pixel (x, y). */
export interface Mask {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Row-major, one byte per pixel, 0 or 1. */
  readonly data: Uint8Array;
}
