import { describe, expect, it } from "vitest";
import { EDITOR_COMMANDS } from "../editor/commands";
import { helpRows, keyLookup, keyTableBuild } from "../editor/keyboard";
import { annotationCreateInput } from "../editor/sync";
import { toolbarButtons } from "../editor/toolbar";
import { Viewport } from "../editor/viewport";
import type { Geometry, Point } from "../model/types";
import { type Defect, Store, defectDrawn } from "../state/store";
import { TOOL_REGISTRY, toolsCreate } from "./registry";
import type { DefectOrigin, Tool, ToolDescriptor, ToolHost, ToolPointer } from "./tool";

/** A ToolHost without an editor: records what tools create. */
class RecordingHost implements ToolHost {
  readonly store = new Store();
  readonly view = new Viewport(100, 80);
  readonly imageWidth = 100;
  readonly imageHeight = 80;
  readonly currentClassId = 7;
  readonly currentSeverityId = null;
  brushRadiusPx = 6;
  readonly created: Array<{ geometry: Geometry; origin: DefectOrigin }> = [];

  defectAt(): Defect | null {
    return null;
  }
  defectCreate(geometry: Geometry, origin: DefectOrigin): void {
    this.created.push({ geometry, origin });
  }
  colorOf(): string {
    return "#ffffff";
  }
  isVisible(): boolean {
    return true;
  }
  requestRender(): void {}
  notify(): void {}
}

function pointerAt(pixel: Point): ToolPointer {
  return { image: [pixel[0] + 0.5, pixel[1] + 0.5], pixel, screen: pixel, shiftKey: false, altKey: false, ctrlKey: false };
}

/** A throw-away model tool: a click stamps a 3 x 3 px square, recorded with the click that prompted it. */
class StampTool implements Tool {
  readonly descriptor = stampTool;
  constructor(private readonly host: ToolHost) {}
  pointerDown(pointer: ToolPointer): void {
    const [x, y] = pointer.pixel;
    const exterior: Point[] = [[x - 1, y - 1], [x + 1, y - 1], [x + 1, y + 1], [x - 1, y + 1]];
    this.host.defectCreate({ polygons: [{ exterior, holes: [] }] }, { source: this.descriptor.source, provenance: { model: "stamp-v1", prompt: { point: [x, y] } } });
  }
  pointerMove(): void {}
  pointerUp(): void {}
  key(): boolean {
    return false;
  }
  draw(): void {}
  cancel(): void {}
}

const stampTool: ToolDescriptor = {
  name: "stamp",
  label: "Stamp",
  key: "s",
  help: "Stamp (click: a 3 px square where the model saw a pore)",
  cursor: "copy",
  source: "model",
  create: (host) => new StampTool(host),
};

const registry = [...TOOL_REGISTRY, stampTool]; // the one registry line a new tool takes

describe("registering a tool with one line", () => {
  it("puts it in the tool bar, after the others, with its shortcut", () => {
    // when
    const buttons = toolbarButtons(registry, "stamp");
    // then
    expect(buttons.map((button) => button.name)).toEqual(["select", "polygon", "rectangle", "brush", "eraser", "assist-box", "assist-click", "stamp"]);
    expect(buttons.at(-1)).toEqual({ name: "stamp", label: "Stamp", key: "S", title: "Stamp (S)", isActive: true });
    expect(buttons.filter((button) => button.isActive)).toHaveLength(1);
  });

  it("gives it a help row after the other tools and a key in the key table", () => {
    // when
    const rows = helpRows(registry, EDITOR_COMMANDS);
    const binding = keyLookup(keyTableBuild(registry, EDITOR_COMMANDS), { key: "s", code: "KeyS", shiftKey: false, ctrlKey: false, metaKey: false });
    // then
    expect(rows.slice(0, 8).map((row) => row.keys)).toEqual(["V", "P", "R", "B", "E", "A", "C", "S"]);
    expect(rows[7]).toEqual({ keys: "S", help: "Stamp (click: a 3 px square where the model saw a pore)" });
    expect(binding?.action).toBe("tool:stamp");
  });

  it("creates its defects with its source and provenance, and the save path sends both", () => {
    // given
    const host = new RecordingHost();
    const stamp = toolsCreate(host, registry).get("stamp")!;
    // when
    stamp.pointerDown(pointerAt([10, 20]));
    // then: the origin reaches the store as drawn, and the save path sends what the server accepts
    expect(host.created).toHaveLength(1);
    const { geometry, origin } = host.created[0]!;
    expect(origin).toEqual({ source: "model", provenance: { model: "stamp-v1", prompt: { point: [10, 20] } } });
    const defect = defectDrawn({ defectClassId: 7, severityId: null, geometry }, origin);
    expect(defect.source).toBe("model");
    expect(defect.provenance).toEqual({ model: "stamp-v1", prompt: { point: [10, 20] } });
    expect(annotationCreateInput(defect, "work")).toEqual({
      defect_class_id: 7,
      severity_id: null,
      geometry,
      source: "model",
      provenance: { model: "stamp-v1", prompt: { point: [10, 20] } },
    });
  });

  it("refuses a tool whose shortcut is taken, naming both", () => {
    // given: F already fits the image
    const clash: ToolDescriptor = { ...stampTool, name: "fill", key: "f" };
    // when / then
    expect(() => keyTableBuild([...TOOL_REGISTRY, clash], EDITOR_COMMANDS)).toThrow('"f" is bound twice: tool:fill and fit');
  });

  it("refuses two tools with one name", () => {
    expect(() => toolsCreate(new RecordingHost(), [...TOOL_REGISTRY, { ...stampTool, name: "polygon" }])).toThrow('two tools are named "polygon"');
  });
});

describe("the registered tools", () => {
  it("each describe themselves by the descriptor that registered them", () => {
    const tools = toolsCreate(new RecordingHost());
    for (const descriptor of TOOL_REGISTRY) expect(tools.get(descriptor.name)?.descriptor).toBe(descriptor);
  });

  it("draw by hand: a rectangle is created as manual, without provenance", () => {
    // given
    const host = new RecordingHost();
    const rectangle = toolsCreate(host).get("rectangle")!;
    // when
    rectangle.pointerDown(pointerAt([2, 3]));
    rectangle.pointerUp(pointerAt([12, 9]));
    // then
    expect(host.created.map((item) => item.origin)).toEqual([{ source: "manual" }]);
    const defect = defectDrawn({ defectClassId: 7, severityId: null, geometry: host.created[0]!.geometry }, host.created[0]!.origin);
    expect("provenance" in defect).toBe(false);
  });

  it("keep the shortcuts, cursors and vertex handles they had", () => {
    const summary = TOOL_REGISTRY.map((tool) => [tool.name, tool.key, tool.cursor, tool.source, tool.hasVertexHandles ?? false]);
    expect(summary).toEqual([
      ["select", "v", "default", "manual", true],
      ["polygon", "p", "crosshair", "manual", false],
      ["rectangle", "r", "crosshair", "manual", false],
      ["brush", "b", "none", "manual", false],
      ["eraser", "e", "none", "manual", false],
      ["assist-box", "a", "crosshair", "assisted", false],
      ["assist-click", "c", "cell", "assisted", false],
    ]);
  });

  it("only the polygon closes on double-click, only select previews a drag", () => {
    const tools = toolsCreate(new RecordingHost());
    expect([...tools.values()].filter((tool) => tool.doubleClick).map((tool) => tool.descriptor.name)).toEqual(["polygon"]);
    expect([...tools.values()].filter((tool) => tool.previewOf).map((tool) => tool.descriptor.name)).toEqual(["select"]);
  });
});
