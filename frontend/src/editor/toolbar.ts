/** The tool bar: one button per registered tool, then the brush size. */
import type { ToolDescriptor } from "../tools/tool";
import { element } from "./dom";

export interface ToolbarButton {
  /** The tool's name, the button's data-tool. */
  readonly name: string;
  readonly label: string;
  /** The shortcut as shown on the button. */
  readonly key: string;
  readonly title: string;
  readonly isActive: boolean;
}

/** What the tool bar shows, from the registry alone. */
export function toolbarButtons(tools: readonly ToolDescriptor[], activeName: string): ToolbarButton[] {
  return tools.map((descriptor) => {
    const key = descriptor.key.toUpperCase();
    return { name: descriptor.name, label: descriptor.label, key, title: `${descriptor.label} (${key})`, isActive: descriptor.name === activeName };
  });
}

export function brushSizeText(brushRadiusPx: number): string {
  return `Brush ${brushRadiusPx * 2} px`;
}

export function toolbarRender(bar: HTMLElement, buttons: readonly ToolbarButton[], brushRadiusPx: number, pick: (name: string) => void): void {
  bar.replaceChildren(
    ...buttons.map((tool) => {
      const button = element("button", { type: "button", class: tool.isActive ? "active" : "", "data-tool": tool.name, title: tool.title }, tool.label, element("kbd", {}, tool.key));
      button.addEventListener("click", () => pick(tool.name));
      return button;
    }),
    element("span", { class: "brush-size", id: "brush-size" }, brushSizeText(brushRadiusPx)),
  );
}
