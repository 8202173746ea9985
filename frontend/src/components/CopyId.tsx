import { useState } from "react";
import { shortId } from "../lib/format";

/** An id shown short, copied whole with one click (or Enter). */
export function CopyId({ id, full = false }: { id: string; full?: boolean }) {
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
      <code data-copy-id={id} title={id}>
        {full ? id : shortId(id)}
      </code>
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
        {copied ? "✓" : "⧉"}
      </button>
    </span>
  );
}
