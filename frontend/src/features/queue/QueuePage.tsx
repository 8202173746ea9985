import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { Empty, ErrorState, Loading } from "../../components/States";
import { ago, count } from "../../lib/format";
import { SHORT_ID } from "../../lib/ids";
import { useChangeFeed } from "../../lib/useChangeFeed";

const QUEUE_KEY = ["queue"] as const;
const LIVE_KEYS = [QUEUE_KEY];

function useQueue() {
  return useQuery({
    queryKey: QUEUE_KEY,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/queue", { signal })),
  });
}

/** /queue — the runs waiting for a slot, in start order, and the config limits (live). */
export function QueuePage() {
  const query = useQueue();
  useChangeFeed(true, LIVE_KEYS);
  return (
    <section aria-labelledby="queue-title">
      <div className="page-header">
        <h1 id="queue-title">Run queue</h1>
        {query.data && (
          <span className="muted" data-testid="queue-summary">
            {count(query.data.total)} waiting · this server runs {count(query.data.running_here)} of{" "}
            {count(query.data.capacity)}
          </span>
        )}
      </div>
      {query.isPending ? (
        <Loading what="the run queue" />
      ) : query.isError ? (
        <ErrorState error={query.error} what="the run queue" retry={() => void query.refetch()} />
      ) : (
        <>
          {query.data.items.length === 0 ? (
            <Empty title="No run is waiting.">
              A run started while every slot is busy (or its config is at its limit) waits here, then starts as a
              slot frees: higher priority first, then first come, first served.
            </Empty>
          ) : (
            <div className="table-wrap">
              <table className="data-table" aria-label="Queued runs">
                <thead>
                  <tr>
                    <th scope="col">Place</th>
                    <th scope="col">Execution</th>
                    <th scope="col">Config</th>
                    <th scope="col">Priority</th>
                    <th scope="col">Queued</th>
                  </tr>
                </thead>
                <tbody>
                  {query.data.items.map((run) => (
                    <tr key={run.execution_id} data-queued-id={run.execution_id}>
                      <td>#{count(run.position)}</td>
                      <td>
                        <Link to={`/executions/${run.execution_id}`} className="id-link">
                          {run.execution_id.slice(0, SHORT_ID)}
                        </Link>
                      </td>
                      <td>
                        <Link to={`/configs/${run.config_name}`}>{run.config_name}</Link>
                      </td>
                      <td>{run.priority}</td>
                      <td>{ago(run.enqueued_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {query.data.limits.length > 0 && (
            <div className="table-wrap">
              <table className="data-table" aria-label="Config limits">
                <thead>
                  <tr>
                    <th scope="col">Config</th>
                    <th scope="col">Limit</th>
                    <th scope="col">Running</th>
                    <th scope="col">Queued</th>
                  </tr>
                </thead>
                <tbody>
                  {query.data.limits.map((limit) => (
                    <tr key={limit.config_name}>
                      <td>
                        <Link to={`/configs/${limit.config_name}`}>{limit.config_name}</Link>
                      </td>
                      <td>{limit.max_running ?? "none"}</td>
                      <td>{count(limit.running)}</td>
                      <td>{count(limit.queued)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
