import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useOutletContext } from "react-router";
import type { Execution } from "../../api/types";
import { Empty, ErrorState, Loading } from "../../components/States";
import { count, dateTime } from "../../lib/format";
import { fetchLineage } from "./queries";

/** /executions/:id/failures — every message that failed for good, with its error. */
export function FailuresTab() {
  const execution = useOutletContext<Execution>();
  const query = useInfiniteQuery({
    queryKey: ["execution", execution.id, "lineage", "", "failed"],
    queryFn: ({ pageParam }) => fetchLineage(execution.id, { status: "failed" }, pageParam, 200),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.next_after ?? undefined,
  });
  if (query.isPending) return <Loading what="failures" />;
  if (query.isError) return <ErrorState error={query.error} what="failures" retry={() => void query.refetch()} />;
  const failures = query.data.pages.flatMap((page) => page.items);
  if (failures.length === 0) {
    return <Empty title="No failed messages.">{execution.error ? `The run itself failed: ${execution.error}` : null}</Empty>;
  }
  return (
    <section className="card" aria-labelledby="failures-title">
      <header className="card-header">
        <h2 id="failures-title">Failed messages</h2>
        <span className="muted small">
          {count(failures.length)}
          {query.hasNextPage ? "+" : ""} · replay them with <em>Replay… → Failed messages</em>
        </span>
      </header>
      <ul className="failures">
        {failures.map((failure) => (
          <li key={failure.id} className="failure" data-message-id={failure.message_id}>
            <div className="failure-head">
              <Link className="mono" to={`../lineage?message=${failure.message_id}`} data-testid="failure-ancestry">
                {failure.message_id.slice(0, 12)}
              </Link>
              <span>at {failure.route}</span>
              <span className="muted small">
                attempt {failure.attempt} · {dateTime(failure.finished_at)}
              </span>
            </div>
            <pre className="traceback danger">{failure.error ?? "(no error recorded)"}</pre>
          </li>
        ))}
      </ul>
      {query.hasNextPage && (
        <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}
