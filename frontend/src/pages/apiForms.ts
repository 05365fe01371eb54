/**
 * Server-rendered forms that save through the API: each `<form data-form="NAME">` is sent by the page's
 * `submits[NAME]`, which reads the fields it needs (typed for its endpoint) and ids from data attributes. On
 * success the page reloads, so the server-rendered tables show the change; on failure the form's `.form-status`
 * shows the server's message.
 */
import { errorMessage } from "../api/client";

export type FormSubmit = (form: HTMLFormElement) => Promise<unknown>;

/** A field whose text is not the JSON it must be; shown as such, not as a server error. */
class JsonFieldError extends Error {}

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function field(form: HTMLFormElement, name: string): Field {
  const found = form.elements.namedItem(name);
  if (!(found instanceof HTMLInputElement || found instanceof HTMLSelectElement || found instanceof HTMLTextAreaElement)) {
    throw new Error(`form ${form.dataset.form ?? ""} has no field ${name}`);
  }
  return found;
}

export function textField(form: HTMLFormElement, name: string): string {
  return field(form, name).value;
}

/** A number input or an id select; an empty one reads 0, as the server's validation then judges it. */
export function numberField(form: HTMLFormElement, name: string): number {
  return Number(field(form, name).value);
}

/** A number or id that may be left empty ("no precedent", "random seed"): empty leaves it out of the body. */
export function optionalNumberField(form: HTMLFormElement, name: string): number | undefined {
  const value = field(form, name).value;
  return value === "" ? undefined : Number(value);
}

/** A textarea holding JSON; empty reads as {}. */
export function jsonField(form: HTMLFormElement, name: string): unknown {
  try {
    return JSON.parse(field(form, name).value || "{}");
  } catch (error) {
    throw new JsonFieldError(`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function formSend(form: HTMLFormElement, submit: FormSubmit): Promise<void> {
  const status = form.querySelector(".form-status");
  try {
    await submit(form);
  } catch (error) {
    if (!status) return;
    status.textContent = errorMessage(error);
    if (!(error instanceof JsonFieldError)) status.classList.add("error");
    return;
  }
  if (status) status.textContent = "Saved.";
  window.location.reload();
}

/** Wires every `form[data-form]` under `root` that `submits` names. */
export function apiFormsWire(submits: Readonly<Record<string, FormSubmit>>, root: ParentNode = document): void {
  for (const form of root.querySelectorAll<HTMLFormElement>("form[data-form]")) {
    const submit = submits[form.dataset.form ?? ""];
    if (!submit) throw new Error(`no submit for form ${form.dataset.form ?? ""}`);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void formSend(form, submit);
    });
  }
}
