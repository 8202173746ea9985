// Text with line numbers (YAML, JSON, tracebacks).  Plain <pre>, so the text
// selects and copies without the numbers.
export function CodeView({
  text,
  label,
  highlight,
}: {
  text: string;
  label: string;
  highlight?: ReadonlySet<number>;
}) {
  const lines = text.replace(/\n$/, "").split("\n");
  return (
    <div className="code-view" role="region" aria-label={label} tabIndex={0}>
      <pre className="gutter" aria-hidden="true">
        {lines.map((_, index) => `${index + 1}\n`).join("")}
      </pre>
      <pre className="code">
        {lines.map((line, index) => (
          <span key={index} className={highlight?.has(index + 1) ? "line marked" : "line"}>
            {line}
            {"\n"}
          </span>
        ))}
      </pre>
    </div>
  );
}
