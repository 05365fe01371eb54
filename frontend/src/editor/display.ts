/**
 * Display-only adjustments of the image (never of the data): brightness, contrast, and window/level. They are
 * one linear map per channel, applied by an SVG feComponentTransfer filter on the image layer, so annotations
 * keep their colours. 16-bit images are shown through their 8-bit display rendition, which ingestion windowed
 * to the 0.5-99.5 % percentiles (metadata.display_window): window/level here narrows that range further and
 * reads out in the original 16-bit units.
 */
export interface DisplaySettings {
  readonly brightness: number; // -1..1, added
  readonly contrast: number; // 0.2..5, around mid-grey
  readonly level: number; // 0..1 of the display range: centre of the window
  readonly window: number; // 0..1 of the display range: width of the window
}

export const DISPLAY_DEFAULT: DisplaySettings = { brightness: 0, contrast: 1, level: 0.5, window: 1 };

/** slope and intercept of v -> window/level -> contrast -> brightness, on values in 0..1. */
export function displayTransfer(settings: DisplaySettings): { slope: number; intercept: number } {
  const window = Math.max(1 / 255, settings.window);
  const low = settings.level - window / 2;
  const slope = settings.contrast / window;
  const intercept = settings.contrast * (-low / window - 0.5) + 0.5 + settings.brightness;
  return { slope, intercept };
}

export function displayApply(canvas: HTMLCanvasElement, settings: DisplaySettings): void {
  const { slope, intercept } = displayTransfer(settings);
  const isIdentity = Math.abs(slope - 1) < 1e-6 && Math.abs(intercept) < 1e-6;
  for (const id of ["display-r", "display-g", "display-b"]) {
    const node = document.getElementById(id);
    node?.setAttribute("slope", String(slope));
    node?.setAttribute("intercept", String(intercept));
  }
  // No filter at all by default: a filter costs a full-layer pass each frame.
  canvas.style.filter = isIdentity ? "" : "url(#display-filter)";
}

/** A display value (0..1) in the original image's units, when ingestion recorded its window. */
export function originalUnits(value: number, displayWindow: readonly [number, number] | null): string {
  if (!displayWindow) return `${Math.round(value * 255)}`;
  const [low, high] = displayWindow;
  return `${Math.round(low + value * (high - low))}`;
}
