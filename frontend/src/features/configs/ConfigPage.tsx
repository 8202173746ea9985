import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { CodeView } from "../../components/CodeView";
import { ErrorState, Loading } from "../../components/States";
import { dateTime } from "../../lib/format";
import { definitionYaml, useVersions } from "./queries";
import { RunDialog } from "./RunDialog";

/** /configs/:name?version=N — versions, the YAML, compare, run, edit. */
export function ConfigPage() {
  const { name = "" } = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const versions = useVersions(name);
  const [running, setRunning] = useState(false);
  const [compareWith, setCompareWith] = useState<number | null>(null);

  if (versions.isPending) return <Loading what={`config ${name}`} />;
  if (versions.isError) {
    return <ErrorState error={versions.error} what={`config ${name}`} retry={() => void versions.refetch()} />;
  }
  const items = [...versions.data.items].sort((a, b) => b.version - a.version);
  const wanted = Number(search.get("version"));
  const config = items.find((c) => c.version === wanted) ?? items[0];
  if (!config) return <ErrorState error={new Error("no versions")} what={`config ${name}`} />;
  const other = compareWith ?? items.find((c) => c.version !== config.version)?.version ?? null;

  return (
    <section aria-labelledby="config-title">
      <div className="page-header">
        <h1 id="config-title">
          {config.name} <span className="muted">v{config.version}</span>
        </h1>
        {config.archived_at && <span className="badge">archived</span>}
        <div className="actions">
          <button type="button" className="primary" onClick={() => setRunning(true)} disabled={!!config.archived_at}>
            Run…
          </button>
          {!config.archived_at && (
            <Link className="button" to={`/schedules/new?config=${encodeURIComponent(config.name)}`}>
              Schedule…
            </Link>
          )}
          <Link className="button" to={`/configs/${config.name}/edit?from=${config.version}`}>
            Edit as new version
          </Link>
          <Link className="button" to={`/executions?config=${encodeURIComponent(config.name)}`}>
            Executions
          </Link>
        </div>
      </div>
      <div className="config-layout">
        <nav className="card versions" aria-label="Versions">
          <h2>Versions</h2>
          <ol>
            {items.map((version) => (
              <li key={version.id}>
                <Link
                  to={`/configs/${config.name}?version=${version.version}`}
                  aria-current={version.version === config.version ? "page" : undefined}
                >
                  v{version.version}
                </Link>{" "}
                <span className="muted small">{dateTime(version.created_at)}</span>
              </li>
            ))}
          </ol>
          {items.length > 1 && other !== null && (
            <form
              className="compare"
              onSubmit={(event) => {
                event.preventDefault();
                void navigate(`/configs/${config.name}/diff?from=${other}&to=${config.version}`);
              }}
            >
              <label>
                Compare v{config.version} with{" "}
                <select value={other} onChange={(e) => setCompareWith(Number(e.target.value))}>
                  {items
                    .filter((v) => v.version !== config.version)
                    .map((v) => (
                      <option key={v.id} value={v.version}>
                        v{v.version}
                      </option>
                    ))}
                </select>
              </label>
              <button type="submit">Show diff</button>
            </form>
          )}
        </nav>
        <div className="card">
          {config.description && <p>{config.description}</p>}
          <p className="muted small">
            Saved {dateTime(config.created_at)} · checksum <code>{config.checksum.slice(0, 12)}</code>
          </p>
          <CodeView text={definitionYaml(config)} label={`${config.name} v${config.version} as YAML`} />
        </div>
      </div>
      <RunDialog config={config} open={running} onClose={() => setRunning(false)} />
    </section>
  );
}
