/** "My queue" (/queue/): my assignments by status, returned ones with the reviewer's comment, and "Start". */
import { type QueueItem, api } from "./api/client";
import { byId, element } from "./editor/dom";

const GROUPS: ReadonlyArray<[string, string]> = [
  ["returned", "Returned to me"],
  ["in_progress", "In progress"],
  ["assigned", "Assigned"],
  ["submitted", "Submitted"],
];

function row(item: QueueItem): HTMLElement {
  const image = item.image;
  const link = element("a", { href: `/images/${image.id}/edit/`, class: "queue-open" }, image.original_filename);
  const children: Array<Node | string> = [
    element("img", { src: api.imageFileUrl(image.id, "thumbnail"), alt: "", width: "64", height: "64", loading: "lazy" }),
    element("div", {}, link, element("div", { class: "small muted" }, `${image.width} × ${image.height} px · image ${image.status ?? ""}${image.is_defect_free ? " · defect-free" : ""}`)),
  ];
  if (item.review_comment) children.push(element("div", { class: "review-comment small" }, `Reviewer: ${item.review_comment}`));
  return element("li", { class: `queue-item status-${item.status}`, "data-image-id": String(image.id) }, ...children);
}

async function queueRender(): Promise<void> {
  const container = byId("queue-list");
  const items: QueueItem[] = [];
  let page = await api.queueList();
  items.push(...page.results);
  while (page.next && items.length < 2000) {
    page = await api.queueList(page.next);
    items.push(...page.results);
  }
  if (!items.length) {
    container.replaceChildren(element("p", { class: "muted" }, "Nothing is assigned to you."));
    return;
  }
  container.replaceChildren(
    ...GROUPS.map(([status, title]) => {
      const group = items.filter((item) => item.status === status);
      return element("section", { class: "queue-group" }, element("h2", {}, `${title} (${group.length})`), group.length ? element("ul", { class: "queue" }, ...group.map(row)) : element("p", { class: "muted small" }, "None."));
    }),
  );
}

byId("queue-start").addEventListener("click", () => {
  void api.queueNext().then((next) => {
    if (next) window.location.assign(`/images/${next.image.id}/edit/`);
    else byId("queue-message").textContent = "Nothing open in your queue.";
  });
});
if (new URLSearchParams(window.location.search).has("done")) byId("queue-message").textContent = "Submitted. Nothing else is open in your queue.";
void queueRender().catch(() => (byId("queue-list").textContent = "The queue could not be loaded. Reload the page."));
