/** A JSON value pretty-printed (payloads, params). */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  let text: string;
  try {
    // JSON.stringify(undefined) is undefined, whatever its declared type says.
    text = value === undefined ? "null" : JSON.stringify(value, null, 2);
  } catch {
    text = String(value);
  }
  return (
    <pre className="json-view" aria-label={label} tabIndex={0}>
      {text}
    </pre>
  );
}
