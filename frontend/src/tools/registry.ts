/**
 * Every drawing tool, in toolbar order. A new tool is one folder (its class and its ToolDescriptor) plus one line
 * here: the toolbar, the shortcut, the help overlay and the cursor all come from the descriptor.
 */
import { assistBoxTool } from "./assistBox/assistBoxTool";
import { assistClickTool } from "./assistClick/assistClickTool";
import { brushTool, eraserTool } from "./brush/brushTool";
import { polygonTool } from "./polygon/polygonTool";
import { rectangleTool } from "./rectangle/rectangleTool";
import { selectTool } from "./select/selectTool";
import type { Tool, ToolDescriptor, ToolHost } from "./tool";

/** The first tool is the one the editor opens with. */
export const TOOL_REGISTRY: readonly ToolDescriptor[] = [
  selectTool,
  polygonTool,
  rectangleTool,
  brushTool,
  eraserTool,
  assistBoxTool,
  assistClickTool,
];

/** One instance of each registered tool, by name. Shortcut clashes are caught by the key table (keyboard.ts). */
export function toolsCreate(host: ToolHost, registry: readonly ToolDescriptor[] = TOOL_REGISTRY): ReadonlyMap<string, Tool> {
  const tools = new Map<string, Tool>();
  for (const descriptor of registry) {
    if (tools.has(descriptor.name)) throw new Error(`two tools are named "${descriptor.name}"`);
    tools.set(descriptor.name, descriptor.create(host));
  }
  return tools;
}
