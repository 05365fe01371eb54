/**
 * The image under the annotations. Small images load /file/display whole; large ones come as a tile pyramid
 * (datasets/pyramid.py: level k is 1/2^k, tiles of `tile_size` px, edge tiles smaller). Only the tiles in view at
 * the level matching the zoom are fetched, decoded off the main thread (createImageBitmap), and kept in an LRU;
 * while a tile loads, the nearest coarser level already loaded stands in, so the view is never blank.
 */
import type { Pyramid } from "../api/client";
import type { Viewport } from "./viewport";

const TILE_CACHE_SIZE = 384; // decoded tiles kept (512² RGBA ≈ 1 MiB each)
const MAX_PARALLEL_TILE_REQUESTS = 6;

interface Tile {
  bitmap: ImageBitmap | null;
  loading: boolean;
  failed: boolean;
}

export class ImageLayer {
  private readonly tiles = new Map<string, Tile>();
  private whole: ImageBitmap | null = null;
  private inFlight = 0;
  private readonly queue: Array<() => void> = [];
  private destroyed = false;
  /** Set once the first pixels of the image are on screen (performance mark "defectlab:first-paint"). */
  firstPaintAt: number | null = null;
  private paintedResolve: () => void = () => undefined;
  /** Settles at the first paint: what the page can do without (precedents, the next image) waits for it. */
  readonly painted = new Promise<void>((resolve) => (this.paintedResolve = resolve));
  /** The first paint, or a moment if the image cannot be drawn: the page's secondary requests (engines,
   * suggestions, precedents, the next image) wait for it, so they do not queue in front of the tiles. */
  readonly paintedOrTimeout = Promise.race([this.painted, pause(SECONDARY_REQUESTS_WAIT_MS)]);

  constructor(
    readonly widthPx: number,
    readonly heightPx: number,
    private readonly displayUrl: string,
    private readonly pyramid: Pyramid | null,
    private readonly onLoaded: () => void,
  ) {
    if (!pyramid) void this.loadWhole();
    // The coarsest level first: one small tile that stands in for any tile still loading, and the minimap.
    else this.request(pyramid.levels.length - 1, 0, 0);
  }

  /** The coarsest level's single tile, for the minimap; null until loaded. */
  overview(): ImageBitmap | null {
    if (!this.pyramid) return this.whole;
    const level = this.pyramid.levels.length - 1;
    return this.tile(level, 0, 0)?.bitmap ?? null;
  }

  draw(context: CanvasRenderingContext2D, view: Viewport): void {
    context.imageSmoothingEnabled = view.scale < 2; // magnified pixels stay crisp for inspection
    context.setTransform(view.scale, 0, 0, view.scale, -view.offsetX * view.scale, -view.offsetY * view.scale);
    let painted = false;
    if (!this.pyramid) {
      if (this.whole) {
        context.drawImage(this.whole, 0, 0);
        painted = true;
      }
    } else {
      painted = this.drawTiles(context, view);
    }
    context.setTransform(1, 0, 0, 1, 0, 0);
    if (painted && this.firstPaintAt === null) {
      this.firstPaintAt = performance.now();
      performance.mark("defectlab:first-paint");
      this.paintedResolve();
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const tile of this.tiles.values()) tile.bitmap?.close();
    this.tiles.clear();
    this.whole?.close();
  }

  private levelFor(scale: number): number {
    const levels = this.pyramid!.levels.length;
    return Math.max(0, Math.min(levels - 1, Math.floor(Math.log2(1 / scale))));
  }

  private drawTiles(context: CanvasRenderingContext2D, view: Viewport): boolean {
    const pyramid = this.pyramid!;
    const level = this.levelFor(view.scale);
    const visible = view.visible();
    let painted = false;
    const wanted: Array<[number, number]> = [];
    const factor = 2 ** level;
    const size = pyramid.tile_size * factor; // image px covered by one tile of this level
    const info = pyramid.levels[level]!;
    const c0 = Math.max(0, Math.floor(visible.minX / size));
    const c1 = Math.min(info.columns - 1, Math.floor(visible.maxX / size));
    const r0 = Math.max(0, Math.floor(visible.minY / size));
    const r1 = Math.min(info.rows - 1, Math.floor(visible.maxY / size));
    for (let row = r0; row <= r1; row += 1) {
      for (let column = c0; column <= c1; column += 1) {
        const tile = this.tile(level, column, row);
        if (tile?.bitmap) {
          context.drawImage(tile.bitmap, column * size, row * size, tile.bitmap.width * factor, tile.bitmap.height * factor);
          painted = true;
        } else {
          painted = this.drawFallback(context, level, column * size, row * size, size) || painted;
          wanted.push([column, row]);
        }
      }
    }
    // Nearest the centre first: the middle of the view fills in before its edges.
    const [centreX, centreY] = [(visible.minX + visible.maxX) / 2 / size, (visible.minY + visible.maxY) / 2 / size];
    wanted.sort((a, b) => Math.hypot(a[0] - centreX, a[1] - centreY) - Math.hypot(b[0] - centreX, b[1] - centreY));
    for (const [column, row] of wanted) this.request(level, column, row);
    return painted;
  }

  /** Paints the region of a missing tile from the nearest coarser loaded level. */
  private drawFallback(context: CanvasRenderingContext2D, level: number, x: number, y: number, size: number): boolean {
    const pyramid = this.pyramid!;
    for (let coarser = level + 1; coarser < pyramid.levels.length; coarser += 1) {
      const factor = 2 ** coarser;
      const coarseSize = pyramid.tile_size * factor;
      const column = Math.floor(x / coarseSize);
      const row = Math.floor(y / coarseSize);
      const tile = this.tiles.get(`${coarser}/${column}/${row}`);
      if (!tile?.bitmap) continue;
      const sx = (x - column * coarseSize) / factor;
      const sy = (y - row * coarseSize) / factor;
      const sw = Math.min(size / factor, tile.bitmap.width - sx);
      const sh = Math.min(size / factor, tile.bitmap.height - sy);
      if (sw <= 0 || sh <= 0) return false;
      context.drawImage(tile.bitmap, sx, sy, sw, sh, x, y, sw * factor, sh * factor);
      return true;
    }
    return false;
  }

  private tile(level: number, column: number, row: number): Tile | undefined {
    const key = `${level}/${column}/${row}`;
    const tile = this.tiles.get(key);
    if (tile) {
      this.tiles.delete(key); // LRU: most recently used last
      this.tiles.set(key, tile);
    }
    return tile;
  }

  private request(level: number, column: number, row: number): void {
    const key = `${level}/${column}/${row}`;
    if (this.tiles.has(key)) return;
    const tile: Tile = { bitmap: null, loading: true, failed: false };
    this.tiles.set(key, tile);
    const url = this.pyramid!.url_template.replace("{level}", String(level))
      .replace("{column}", String(column))
      .replace("{row}", String(row));
    this.enqueue(async () => {
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`tile ${key}: ${response.status}`);
        const bitmap = await createImageBitmap(await response.blob());
        if (this.destroyed) return bitmap.close();
        tile.bitmap = bitmap;
        this.evict();
        this.onLoaded();
      } catch {
        tile.failed = true;
        this.tiles.delete(key); // asked again next time it is in view
      } finally {
        tile.loading = false;
      }
    });
  }

  private enqueue(task: () => Promise<void>): void {
    const start = (): void => {
      this.inFlight += 1;
      void task().finally(() => {
        this.inFlight -= 1;
        this.queue.shift()?.();
      });
    };
    if (this.inFlight < MAX_PARALLEL_TILE_REQUESTS) start();
    else this.queue.push(start);
  }

  private evict(): void {
    const coarsest = `${this.pyramid!.levels.length - 1}/0/0`;
    for (const [key, tile] of this.tiles) {
      if (this.tiles.size <= TILE_CACHE_SIZE) break;
      if (key === coarsest || tile.loading) continue; // the overview stays for fallbacks and the minimap
      tile.bitmap?.close();
      this.tiles.delete(key);
    }
  }

  private async loadWhole(): Promise<void> {
    const response = await fetch(this.displayUrl, { credentials: "same-origin" });
    const bitmap = await createImageBitmap(await response.blob());
    if (this.destroyed) return bitmap.close();
    this.whole = bitmap;
    this.onLoaded();
  }
}

const SECONDARY_REQUESTS_WAIT_MS = 1500;

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
