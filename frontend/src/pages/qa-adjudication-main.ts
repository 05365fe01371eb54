/**
 * The adjudication view (qa_adjudication.html): A and B over the image with the pixels only one of them marked,
 * the matched pairs, and the decision (take A, take B, pick per defect, or change class and severity), sent with
 * a reason. Outlines are edited in the editor on the final annotations (?final=1): "Save and edit" records the
 * kept defects as an `edited` decision and opens it; a decided adjudication links there and lists those edits.
 */
import { type Adjudication, type AdjudicationDetail, api, errorMessage } from "../api/client";
import { byId } from "../editor/dom";
import { CHOICES_NONE, type Choices, choicesTake, decisionBody } from "./adjudication/choices";
import { layersShown, stageDraw } from "./adjudication/stage";
import { choicesRender, pairsRender, reviewerEditsRender } from "./adjudication/tables";
import { imageLoad } from "./canvas";
import { datasetId } from "./pageData";

const root = byId("adjudication");
const adjudicationId = datasetId(root, "adjudicationId");
const statusLine = byId("decide-status");
const decideButtons = [byId<HTMLButtonElement>("decide"), byId<HTMLButtonElement>("decide-and-edit")];

/** What the adjudicator has chosen so far; the choice table is redrawn from it on every change. */
let choices: Choices = CHOICES_NONE;

function choicesShow(view: AdjudicationDetail, next: Choices): void {
  choices = next;
  choicesRender(byId("choices").querySelector("tbody")!, byId("decision-kind"), view, choices, (changed) =>
    choicesShow(view, changed),
  );
}

function decidedShow(adjudication: Adjudication): void {
  for (const button of decideButtons) button.disabled = true;
  byId("adjudication-status").textContent = "Decided";
  byId("final-edit").hidden = false;
  reviewerEditsRender(byId("reviewer-edits"), adjudication);
}

async function decide(view: AdjudicationDetail, andEdit: boolean): Promise<void> {
  const reason = byId<HTMLTextAreaElement>("reason").value.trim();
  if (!reason) {
    statusLine.textContent = "Record a reason for the decision.";
    return;
  }
  for (const button of decideButtons) button.disabled = true;
  try {
    const decided = await api.adjudicationDecide(adjudicationId, decisionBody(view, choices, reason, andEdit));
    statusLine.textContent = `Decision saved: ${decided.final_sources?.length ?? 0} final defect(s).`;
    decidedShow(decided);
    if (andEdit) window.location.assign(byId<HTMLAnchorElement>("final-edit-link").href);
  } catch (error) {
    statusLine.textContent = errorMessage(error);
    for (const button of decideButtons) button.disabled = false;
  }
}

async function start(): Promise<void> {
  let view: AdjudicationDetail;
  try {
    view = await api.adjudicationGet(adjudicationId);
  } catch (error) {
    statusLine.textContent = errorMessage(error);
    return;
  }
  const adjudication = view.adjudication;
  byId("annotators").textContent =
    `A: ${adjudication.first_annotator ?? ""} · B: ${adjudication.second_annotator ?? ""} · ${adjudication.reasons.join(", ")}`;
  const image = await imageLoad(adjudication.image.urls.display!);
  const canvas = byId<HTMLCanvasElement>("adjudication-canvas");
  const draw = (): void => stageDraw(canvas, view, image, layersShown());
  draw();
  pairsRender(byId("pairs").querySelector("tbody")!, view);
  choicesShow(view, CHOICES_NONE);
  if (adjudication.status === "decided") {
    decidedShow(adjudication);
    statusLine.textContent = `Already decided by ${adjudication.adjudicator ?? ""}: ${adjudication.reason ?? ""}`;
  }
  for (const box of document.querySelectorAll("[data-layer]")) box.addEventListener("change", draw);
  byId("take-first").addEventListener("click", () => choicesShow(view, choicesTake(view, "first")));
  byId("take-second").addEventListener("click", () => choicesShow(view, choicesTake(view, "second")));
  decideButtons[0]!.addEventListener("click", () => void decide(view, false));
  decideButtons[1]!.addEventListener("click", () => void decide(view, true));
  root.dataset.ready = "true";
}

void start();
