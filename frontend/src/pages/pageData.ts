/** What a server-rendered page hands its script: ids in data attributes, data in json_script elements. */

/** The integer in `element.dataset[key]` (data-project-id → "projectId"); a page without it is a template bug. */
export function datasetId(element: HTMLElement, key: string): number {
  const value = Number(element.dataset[key]);
  if (!Number.isInteger(value)) throw new Error(`${element.tagName.toLowerCase()}#${element.id} has no data for ${key}`);
  return value;
}

/** The JSON of a {{ value|json_script:"id" }} element. The type is the caller's promise about the view. */
export function jsonScriptRead<T>(id: string): T {
  const script = document.getElementById(id);
  if (!script?.textContent) throw new Error(`the page has no json_script #${id}`);
  return JSON.parse(script.textContent) as T;
}
