import { useState } from "react";
import { Link } from "react-router";
import { Empty, ErrorState, Loading } from "../../components/States";
import { ago, dateTime } from "../../lib/format";
import { asText } from "../../lib/text";
import { useConfigs } from "./queries";

/** /configs — the latest version of every stored config. */
export function ConfigsPage() {
  const [archived, setArchived] = useState(false);
  const query = useConfigs(archived);
  return (
    <section aria-labelledby="configs-title">
      <div className="page-header">
        <h1 id="configs-title">Configs</h1>
        <label className="small">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> show archived
        </label>
        <Link className="button primary" to="/configs/new">
          New config
        </Link>
      </div>
      {query.isPending ? (
        <Loading what="configs" />
      ) : query.isError ? (
        <ErrorState error={query.error} what="configs" retry={() => void query.refetch()} />
      ) : query.data.items.length === 0 ? (
        <Empty title="No configs stored yet.">
          Write one with <Link to="/configs/new">New config</Link>, or apply a file from a terminal:{" "}
          <code>factflow config apply examples/pipelines/facts.yaml</code>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Latest</th>
                <th scope="col">Routes</th>
                <th scope="col">Description</th>
                <th scope="col">Saved</th>
              </tr>
            </thead>
            <tbody>
              {query.data.items.map((config) => (
                <tr key={config.id} data-config={config.name}>
                  <td>
                    <Link to={`/configs/${config.name}`}>{config.name}</Link>
                    {config.archived_at && <span className="badge">archived</span>}
                  </td>
                  <td>v{config.version}</td>
                  <td>{Object.keys(config.definition["routes"] ?? {}).length}</td>
                  <td className="truncate" title={config.description ?? ""}>
                    {config.description ?? asText(config.definition["description"])}
                  </td>
                  <td title={dateTime(config.created_at)}>{ago(config.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
