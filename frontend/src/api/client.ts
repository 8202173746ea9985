// The one typed API client: openapi-fetch over the generated paths, same
// origin (the server serves the UI), credentials from the session cookie.
import createClient from "openapi-fetch";
import { takePrefetched } from "./prefetch";
import type { paths } from "./schema";
import type { Problem } from "./types";

export const api = createClient<paths>({
  baseUrl: "",
  credentials: "same-origin",
  // The landing page's first request may already be under way (index.html).
  fetch: (request) => takePrefetched(request) ?? fetch(request),
});

/** An RFC 9457 problem answered by the server (or a network failure). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallback: string) {
    super(problem?.detail ?? fallback);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** The problem's stable code (`urn:factflow:problem:<code>`). */
  get code(): string {
    return this.problem?.type.replace("urn:factflow:problem:", "") ?? "network";
  }
}

/** Fired when any request answers 401: the app shows the login page. */
export const UNAUTHORIZED_EVENT = "factflow:unauthorized";

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "type" in value && "status" in value;
}

/** The data of an openapi-fetch result, or an `ApiError` thrown for its problem. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await pending;
  } catch (cause) {
    throw new ApiError(0, null, `the server did not answer (${String(cause)})`);
  }
  const { data, error, response } = result;
  if (response.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  if (error !== undefined || !response.ok) {
    const problem = isProblem(error) ? error : null;
    throw new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
  }
  return data as T;
}

/** A download / preview URL of a stored object (keys may contain '/'). */
export function objectUrl(executionId: string, key: string): string {
  const encoded = key.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/executions/${encodeURIComponent(executionId)}/storage/objects/${encoded}`;
}
