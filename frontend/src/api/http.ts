/**
 * The one way the browser code talks to the API: the session cookie authenticates, unsafe methods send Django's
 * CSRF token, errors become ApiError (the server answered) or NetworkError (it did not). URLs come from
 * routes.ts; the typed operations are in client.ts.
 */
import type { AnnotationOutput } from "./client";

/** The error body every endpoint answers with ({code, message, ...details}). */
export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly reasons?: readonly string[];
  readonly current_revision?: number | null;
  readonly current?: AnnotationOutput | null;
  readonly annotation_ids?: readonly number[];
}

/** The server answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

/** No answer at all (offline, server down): the work stays in the local draft and is retried. */
export class NetworkError extends Error {}

/**
 * Django's CSRF token from its `csrftoken` cookie. Every page has the cookie: base.html's logout form renders
 * {% csrf_token %}, which makes Django set it (pages need no hidden form of their own).
 */
export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]!) : "";
}

function headersFor(method: string): Record<string, string> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  return headers;
}

/** The parsed answer, or ApiError with the server's body (or a stand-in when the body is not the API's). */
function answerRead<T>(status: number, text: string): T {
  if (status === 204) return undefined as T;
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (status < 200 || status >= 300) {
    const errorBody =
      parsed && typeof parsed === "object" && "code" in parsed
        ? (parsed as ErrorBody)
        : { code: `http_${status}`, message: `The server answered ${status}.` };
    throw new ApiError(status, errorBody);
  }
  return parsed as T;
}

export async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers = headersFor(method);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : "network error");
  }
  return answerRead<T>(response.status, response.status === 204 ? "" : await response.text());
}

/**
 * A multipart POST that reports upload progress (0..1): fetch cannot, so this one uses XMLHttpRequest, with the
 * same headers and errors as `request`.
 */
export function requestWithProgress<T>(
  url: string,
  body: FormData,
  onProgress: (fraction: number) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(headersFor("POST"))) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) onProgress(progress.loaded / progress.total);
    });
    xhr.addEventListener("load", () => {
      try {
        resolve(answerRead<T>(xhr.status, xhr.responseText));
      } catch (error) {
        reject(error);
      }
    });
    xhr.addEventListener("error", () => reject(new NetworkError("network error")));
    xhr.send(body);
  });
}
