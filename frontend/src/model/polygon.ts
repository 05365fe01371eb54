/** Pure functions on polygons with holes, in image pixel coordinates (see types.ts for the conventions). */
import type { Geometry, Point, Polygon, Ring } from "./types";

export interface Bounds {
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

/** Shoelace area in px² (positive). Not the defect's area: that is the rasterised pixel count (measure.ts). */
export function ringArea(ring: Ring): number {
  let twice = 0;
  for (let index = 0; index < ring.length; index += 1) {
    const [x0, y0] = ring[index]!;
    const [x1, y1] = ring[(index + 1) % ring.length]!;
    twice += x0 * y1 - x1 * y0;
  }
  return Math.abs(twice) / 2;
}

export function polygonArea(polygon: Polygon): number {
  return polygon.holes.reduce((area, hole) => area - ringArea(hole), ringArea(polygon.exterior));
}

/** Even-odd test; a point exactly on an edge may fall either way (hit tests add a tolerance). */
export function pointInRing(point: Point, ring: Ring): boolean {
  const [x, y] = point;
  let inside = false;
  for (let index = 0, previous = ring.length - 1; index < ring.length; previous = index, index += 1) {
    const [xi, yi] = ring[index]!;
    const [xj, yj] = ring[previous]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function pointInPolygon(point: Point, polygon: Polygon): boolean {
  return pointInRing(point, polygon.exterior) && !polygon.holes.some((hole) => pointInRing(point, hole));
}

export function pointInGeometry(point: Point, geometry: Geometry): boolean {
  return geometry.polygons.some((polygon) => pointInPolygon(point, polygon));
}

export function ringBounds(ring: Ring): Bounds {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of ring) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
}

export function geometryBounds(geometry: Geometry): Bounds {
  return boundsUnion(geometry.polygons.map((polygon) => ringBounds(polygon.exterior)));
}

export function boundsUnion(list: readonly Bounds[]): Bounds {
  return {
    minX: Math.min(...list.map((bounds) => bounds.minX)),
    minY: Math.min(...list.map((bounds) => bounds.minY)),
    maxX: Math.max(...list.map((bounds) => bounds.maxX)),
    maxY: Math.max(...list.map((bounds) => bounds.maxY)),
  };
}

export function boundsIntersect(first: Bounds, second: Bounds): boolean {
  return first.minX <= second.maxX && second.minX <= first.maxX && first.minY <= second.maxY && second.minY <= first.maxY;
}

export function vertexCount(geometry: Geometry): number {
  return geometry.polygons.reduce(
    (total, polygon) => total + polygon.exterior.length + polygon.holes.reduce((sum, hole) => sum + hole.length, 0),
    0,
  );
}

/** Squared distance from `point` to the segment a-b. */
export function segmentDistanceSquared(point: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((point[0] - a[0]) * dx + (point[1] - a[1]) * dy) / lengthSquared));
  const x = a[0] + t * dx - point[0];
  const y = a[1] + t * dy - point[1];
  return x * x + y * y;
}

/** Where a vertex lives: polygon index, ring index (0 = exterior, 1.. = holes), vertex index. */
export interface VertexAddress {
  readonly polygon: number;
  readonly ring: number;
  readonly vertex: number;
}

export function ringAt(geometry: Geometry, address: Pick<VertexAddress, "polygon" | "ring">): Ring {
  const polygon = geometry.polygons[address.polygon]!;
  return address.ring === 0 ? polygon.exterior : polygon.holes[address.ring - 1]!;
}

function rings(geometry: Geometry): Array<{ polygon: number; ring: number; points: Ring }> {
  return geometry.polygons.flatMap((polygon, polygonIndex) => [
    { polygon: polygonIndex, ring: 0, points: polygon.exterior },
    ...polygon.holes.map((hole, holeIndex) => ({ polygon: polygonIndex, ring: holeIndex + 1, points: hole })),
  ]);
}

/** The vertex nearest `point` within `tolerance` px, if any. */
export function vertexNear(geometry: Geometry, point: Point, tolerance: number): VertexAddress | null {
  let best: VertexAddress | null = null;
  let bestDistance = tolerance * tolerance;
  for (const { polygon, ring, points } of rings(geometry)) {
    points.forEach(([x, y], vertex) => {
      const distance = (x - point[0]) ** 2 + (y - point[1]) ** 2;
      if (distance <= bestDistance) {
        bestDistance = distance;
        best = { polygon, ring, vertex };
      }
    });
  }
  return best;
}

/** The edge nearest `point` within `tolerance` px, named by the vertex that starts it. */
export function edgeNear(geometry: Geometry, point: Point, tolerance: number): VertexAddress | null {
  let best: VertexAddress | null = null;
  let bestDistance = tolerance * tolerance;
  for (const { polygon, ring, points } of rings(geometry)) {
    points.forEach((a, vertex) => {
      const distance = segmentDistanceSquared(point, a, points[(vertex + 1) % points.length]!);
      if (distance <= bestDistance) {
        bestDistance = distance;
        best = { polygon, ring, vertex };
      }
    });
  }
  return best;
}

function withRing(geometry: Geometry, address: Pick<VertexAddress, "polygon" | "ring">, ring: Ring): Geometry {
  return {
    polygons: geometry.polygons.map((polygon, index) => {
      if (index !== address.polygon) return polygon;
      if (address.ring === 0) return { exterior: ring, holes: polygon.holes };
      return { exterior: polygon.exterior, holes: polygon.holes.map((hole, hole_index) => (hole_index === address.ring - 1 ? ring : hole)) };
    }),
  };
}

export function vertexMove(geometry: Geometry, address: VertexAddress, to: Point): Geometry {
  const ring = ringAt(geometry, address).map((point, index) => (index === address.vertex ? to : point));
  return withRing(geometry, address, ring);
}

/** Inserts `point` after vertex `address.vertex`. */
export function vertexInsert(geometry: Geometry, address: VertexAddress, point: Point): Geometry {
  const ring = [...ringAt(geometry, address)];
  ring.splice(address.vertex + 1, 0, point);
  return withRing(geometry, address, ring);
}

/** Removes a vertex; a ring left with fewer than 3 vertices is refused (returns null). */
export function vertexDelete(geometry: Geometry, address: VertexAddress): Geometry | null {
  const ring = ringAt(geometry, address).filter((_, index) => index !== address.vertex);
  return ring.length < 3 ? null : withRing(geometry, address, ring);
}

export function geometryTranslate(geometry: Geometry, dx: number, dy: number): Geometry {
  const move = (ring: Ring): Ring => ring.map(([x, y]) => [x + dx, y + dy] as const);
  return { polygons: geometry.polygons.map((polygon) => ({ exterior: move(polygon.exterior), holes: polygon.holes.map(move) })) };
}

/** A rectangle between two opposite corners as a 4-vertex polygon through pixel centres. */
export function rectanglePolygon(from: Point, to: Point): Polygon {
  const [x0, x1] = [Math.min(from[0], to[0]), Math.max(from[0], to[0])];
  const [y0, y1] = [Math.min(from[1], to[1]), Math.max(from[1], to[1])];
  return { exterior: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], holes: [] };
}

/** Vertices drawn in the editor sit on pixel centres inside the image (the server refuses anything outside). */
export function snapToPixel(point: Point, width: number, height: number): Point {
  return [Math.min(width - 1, Math.max(0, Math.round(point[0]))), Math.min(height - 1, Math.max(0, Math.round(point[1])))];
}

/** Moves a geometry by (dx, dy) but no further than the image edge allows. */
export function clampTranslation(bounds: Bounds, dx: number, dy: number, width: number, height: number): Point {
  return [
    Math.min(width - 1 - bounds.maxX, Math.max(-bounds.minX, dx)),
    Math.min(height - 1 - bounds.maxY, Math.max(-bounds.minY, dy)),
  ];
}
