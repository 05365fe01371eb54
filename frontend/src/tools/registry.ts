/** Every drawing tool by name, with its shortcut key. A new tool is one folder plus one line here. */
import { BrushTool } from "./brush/brushTool";
import { PolygonTool } from "./polygon/polygonTool";
import { RectangleTool } from "./rectangle/rectangleTool";
import { SelectTool } from "./select/selectTool";
import type { Tool, ToolHost } from "./tool";

export interface Tools {
  readonly select: SelectTool;
  readonly polygon: PolygonTool;
  readonly rectangle: RectangleTool;
  readonly brush: BrushTool;
  readonly eraser: BrushTool;
}

export function toolsCreate(host: ToolHost): Tools {
  return {
    select: new SelectTool(host),
    polygon: new PolygonTool(host),
    rectangle: new RectangleTool(host),
    brush: new BrushTool(host, 1),
    eraser: new BrushTool(host, 0),
  };
}

export function toolList(tools: Tools): Tool[] {
  return [tools.select, tools.polygon, tools.rectangle, tools.brush, tools.eraser];
}
