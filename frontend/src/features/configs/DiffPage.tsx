import { diffLines } from "diff";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { Empty, ErrorState, Loading } from "../../components/States";
import { definitionYaml, useVersions } from "./queries";

export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
  oldLine: number | null;
  newLine: number | null;
}

/** A line-by-line diff with both sides' line numbers. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const part of diffLines(before, after)) {
    const texts = part.value.replace(/\n$/, "").split("\n");
    for (const text of texts) {
      if (part.added) lines.push({ kind: "added", text, oldLine: null, newLine: newLine++ });
      else if (part.removed) lines.push({ kind: "removed", text, oldLine: oldLine++, newLine: null });
      else lines.push({ kind: "same", text, oldLine: oldLine++, newLine: newLine++ });
    }
  }
  return lines;
}

/** /configs/:name/diff?from=A&to=B */
export function DiffPage() {
  const { name = "" } = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const versions = useVersions(name);
  if (versions.isPending) return <Loading what="versions" />;
  if (versions.isError) return <ErrorState error={versions.error} what="versions" retry={() => void versions.refetch()} />;
  const items = [...versions.data.items].sort((a, b) => a.version - b.version);
  const from = items.find((c) => c.version === Number(search.get("from")));
  const to = items.find((c) => c.version === Number(search.get("to")));
  const pick = (key: "from" | "to", value: string) => {
    const next = new URLSearchParams(search);
    next.set(key, value);
    void navigate({ search: next.toString() });
  };
  const picker = (key: "from" | "to", value: number | undefined) => (
    <select aria-label={key === "from" ? "Old version" : "New version"} value={value ?? ""} onChange={(e) => pick(key, e.target.value)}>
      <option value="" disabled>
        pick
      </option>
      {items.map((v) => (
        <option key={v.id} value={v.version}>
          v{v.version}
        </option>
      ))}
    </select>
  );
  const lines = from && to ? lineDiff(definitionYaml(from), definitionYaml(to)) : [];
  const changed = lines.filter((l) => l.kind !== "same").length;
  return (
    <section aria-labelledby="diff-title">
      <div className="page-header">
        <h1 id="diff-title">
          <Link to={`/configs/${name}`}>{name}</Link>: {picker("from", from?.version)} → {picker("to", to?.version)}
        </h1>
        <span className="muted small">{changed} changed lines</span>
      </div>
      {!from || !to ? (
        <Empty title="Pick two versions to compare." />
      ) : changed === 0 ? (
        <Empty title={`v${from.version} and v${to.version} have the same definition.`} />
      ) : (
        <div className="code-view diff" role="region" aria-label="Differences" tabIndex={0}>
          <table>
            <tbody>
              {lines.map((line, index) => (
                <tr key={index} className={`diff-${line.kind}`}>
                  <td className="gutter">{line.oldLine ?? ""}</td>
                  <td className="gutter">{line.newLine ?? ""}</td>
                  <td className="sign" aria-label={line.kind === "same" ? undefined : line.kind}>
                    {line.kind === "added" ? "+" : line.kind === "removed" ? "−" : " "}
                  </td>
                  <td className="code">{line.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
