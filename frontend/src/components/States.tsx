import type { ReactNode } from "react";
import { ApiError } from "../api/client";
import { asText } from "../lib/text";

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children && <div className="state-help">{children}</div>}
    </div>
  );
}

function advice(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return "Is the FactFlow server running? Start it with `factflow server`, then retry.";
    if (error.status === 401) return "Log in with the server's API token.";
    if (error.status === 404) return "Check the id or name in the address; it may have been deleted.";
    if (error.status === 503) return "The server is busy or its database is unreachable; retry in a moment.";
    if (error.status >= 500) return `A server error; its log has the details (reference ${asText(error.problem?.["reference"]) || "–"}).`;
  }
  return "Retry; if it keeps failing, the server log says why.";
}

export function ErrorState({ error, retry, what }: { error: unknown; retry?: () => void; what: string }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">Could not load {what}</p>
      <p className="state-detail">{message}</p>
      <p className="state-help">{advice(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}
