/** The minimap of large images: the whole image small, the view as a rectangle; click or drag to move there. */
import type { ImageLayer } from "./imageLayer";
import type { Viewport } from "./viewport";

const MINIMAP_MAX_PX = 220; // longest side of the minimap, CSS px

export class Minimap {
  private readonly context: CanvasRenderingContext2D;
  private readonly scale: number;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly view: Viewport,
    private readonly image: ImageLayer,
    onMove: () => void,
  ) {
    this.scale = MINIMAP_MAX_PX / Math.max(view.imageWidth, view.imageHeight);
    canvas.width = Math.max(1, Math.round(view.imageWidth * this.scale));
    canvas.height = Math.max(1, Math.round(view.imageHeight * this.scale));
    this.context = canvas.getContext("2d")!;
    const moveTo = (event: PointerEvent): void => {
      const box = canvas.getBoundingClientRect();
      view.centerOn((event.clientX - box.left) / this.scale, (event.clientY - box.top) / this.scale);
      onMove();
    };
    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      moveTo(event);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (event.buttons) moveTo(event);
    });
  }

  draw(): void {
    const { context, canvas } = this;
    context.fillStyle = "#222";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const overview = this.image.overview();
    if (overview) context.drawImage(overview, 0, 0, canvas.width, canvas.height);
    // The part of the image in view: the view can reach past the image's edges, the minimap cannot.
    const visible = this.view.visible();
    const [x0, y0] = [Math.max(0, visible.minX), Math.max(0, visible.minY)];
    const [x1, y1] = [Math.min(this.view.imageWidth, visible.maxX), Math.min(this.view.imageHeight, visible.maxY)];
    context.strokeStyle = "#ffd400";
    context.lineWidth = 2;
    context.strokeRect(x0 * this.scale + 1, y0 * this.scale + 1, Math.max(0, (x1 - x0) * this.scale - 2), Math.max(0, (y1 - y0) * this.scale - 2));
  }
}
