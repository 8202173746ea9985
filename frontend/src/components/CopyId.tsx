import { useState, type ReactNode } from "react";
import { shortId } from "../lib/format";

/**
 * An id shown short, copied whole with one click (or Enter). `children`
 * replaces the shown text (e.g. a link with the page's distinguishing prefix).
 */
export function CopyId({ id, full = false, children }: { id: string; full?: boolean; children?: ReactNode }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(id);
    } catch {
      // Clipboard access needs a secure context; select the text instead.
      const range = document.createRange();
      const node = document.querySelector(`[data-copy-id="${CSS.escape(id)}"]`);
      if (node) {
        range.selectNodeContents(node);
        window.getSelection()?.removeAllRanges();
        window.getSelection()?.addRange(range);
      }
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1200);
  };
  return (
    <span className="copy-id">
      {children === undefined ? (
        <code data-copy-id={id} title={id}>
          {full ? id : shortId(id)}
        </code>
      ) : (
        <span data-copy-id={id} title={id}>
          {children}
        </span>
      )}
      <button
        type="button"
        className="icon-button"
        onClick={(event) => {
          event.preventDefault();
          event.stopPropagation();
          void copy();
        }}
        aria-label={`Copy id ${id}`}
        title="Copy the full id"
      >
        {copied ? (
          "✓"
        ) : (
          <svg width="13" height="13" viewBox="0 0 16 16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.5">
            <rect x="5.5" y="5.5" width="8" height="8" rx="1.5" />
            <path d="M3.5 10.5h-1a1 1 0 0 1-1-1v-7a1 1 0 0 1 1-1h7a1 1 0 0 1 1 1v1" />
          </svg>
        )}
      </button>
    </span>
  );
}
