/** Tiny DOM helpers: elements with text (never innerHTML with data), looked up by id with a clear error. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    // Through the CSSOM: the Content-Security-Policy (style-src 'self') blocks style attributes, not this.
    else if (name === "style") node.style.cssText = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T {
  const node = root.querySelector<T>(`#${id}`);
  if (!node) throw new Error(`the page is missing #${id}`);
  return node;
}
