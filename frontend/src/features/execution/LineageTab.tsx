import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { Link, useOutletContext, useSearchParams } from "react-router";
import type { Execution, LineageRecord } from "../../api/types";
import { JsonView } from "../../components/JsonView";
import { Empty, ErrorState, Loading } from "../../components/States";
import { count, dateTime } from "../../lib/format";
import { fetchLineage, type LineageFilter } from "./queries";
import { useSelection } from "./selection";
import { messageTree } from "./tree";

const PAGE = 200;
const STATUSES = ["processed", "failed", "filtered", "cancelled"] as const;
/** Records read to draw a message's tree in the browser. */
const TREE_LIMIT = 10_000;
const TREE_PAGES = 5;

export function routesOf(execution: Execution): string[] {
  const definition = execution.config_snapshot["definition"] as { routes?: Record<string, unknown> } | undefined;
  return Object.keys(definition?.routes ?? {});
}

/** /executions/:id/lineage?route=&status=&message= — pick a message, see where it came from and went. */
export function LineageTab() {
  const execution = useOutletContext<Execution>();
  const [search, setSearch] = useSearchParams();
  const filter: LineageFilter = {
    route: search.get("route") ?? undefined,
    status: (STATUSES as readonly string[]).includes(search.get("status") ?? "")
      ? (search.get("status") as LineageFilter["status"])
      : undefined,
  };
  const messageId = search.get("message");
  const set = (key: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next);
  };

  return (
    <div className="split">
      <section className="card" aria-labelledby="lineage-title">
        <header className="card-header">
          <h2 id="lineage-title">Messages</h2>
          <label className="small">
            Route{" "}
            <select value={filter.route ?? ""} onChange={(e) => set("route", e.target.value || null)}>
              <option value="">all</option>
              {routesOf(execution).map((route) => (
                <option key={route}>{route}</option>
              ))}
            </select>
          </label>
          <label className="small">
            Status{" "}
            <select value={filter.status ?? ""} onChange={(e) => set("status", e.target.value || null)}>
              <option value="">all</option>
              {STATUSES.map((status) => (
                <option key={status}>{status}</option>
              ))}
            </select>
          </label>
        </header>
        <RecordList execution={execution} filter={filter} selected={messageId} onPick={(id) => set("message", id)} />
      </section>
      <section className="card" aria-labelledby="message-title">
        <h2 id="message-title">Message</h2>
        {messageId ? (
          <MessageDetail execution={execution} messageId={messageId} onPick={(id) => set("message", id)} />
        ) : (
          <Empty title="Pick a message on the left">
            Its payload, error, ancestry (where it came from) and descendants (what it produced) show here.
          </Empty>
        )}
      </section>
    </div>
  );
}

function RecordList({
  execution,
  filter,
  selected,
  onPick,
}: {
  execution: Execution;
  filter: LineageFilter;
  selected: string | null;
  onPick: (messageId: string) => void;
}) {
  const selection = useSelection();
  const query = useInfiniteQuery({
    queryKey: ["execution", execution.id, "lineage", filter.route ?? "", filter.status ?? ""],
    queryFn: ({ pageParam }) => fetchLineage(execution.id, filter, pageParam, PAGE),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.next_after ?? undefined,
  });
  if (query.isPending) return <Loading what="lineage" />;
  if (query.isError) return <ErrorState error={query.error} what="lineage" retry={() => void query.refetch()} />;
  const records = query.data.pages.flatMap((page) => page.items);
  if (records.length === 0) {
    return (
      <Empty title="No messages match.">
        {execution.status === "pending" || execution.status === "running"
          ? "Messages appear here as they settle."
          : "Try another route or status."}
      </Empty>
    );
  }
  return (
    <>
      <div className="table-wrap">
        <table className="data-table lineage-table">
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Select for replay</span>
              </th>
              <th scope="col">Message</th>
              <th scope="col">Route</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Attempt
              </th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {records.map((record) => (
              <tr
                key={record.id}
                data-message-id={record.message_id}
                className={record.message_id === selected ? "selected clickable" : "clickable"}
                onClick={(event) => {
                  if ((event.target as HTMLElement).closest("input,button")) return;
                  onPick(record.message_id);
                }}
              >
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select message ${record.message_id} for replay`}
                    checked={selection.ids.has(record.message_id)}
                    onChange={() => selection.toggle(record.message_id)}
                  />
                </td>
                <td>
                  <button type="button" className="link-button mono" onClick={() => onPick(record.message_id)}>
                    {record.message_id.slice(0, 12)}
                  </button>
                </td>
                <td>{record.route}</td>
                <td>
                  <span className={`badge lineage-${record.status}`}>{record.status}</span>
                </td>
                <td className="num">{record.attempt}</td>
                <td className="truncate danger" title={record.error ?? ""}>
                  {record.error}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {query.hasNextPage && (
        <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          {query.isFetchingNextPage ? "Loading…" : `Load more (showing ${count(records.length)})`}
        </button>
      )}
    </>
  );
}

async function allRecords(executionId: string): Promise<{ records: LineageRecord[]; complete: boolean }> {
  const records: LineageRecord[] = [];
  let after: number | undefined;
  for (let page = 0; page < TREE_PAGES; page += 1) {
    const result = await fetchLineage(executionId, {}, after, TREE_LIMIT);
    records.push(...result.items);
    if (result.next_after === null) return { records, complete: true };
    after = result.next_after;
  }
  return { records, complete: false };
}

function RecordLine({ record, onPick, depth = 0 }: { record: LineageRecord; onPick: (id: string) => void; depth?: number }) {
  return (
    <li style={{ marginLeft: `${depth * 1.1}rem` }} data-tree-message={record.message_id}>
      <button type="button" className="link-button mono" onClick={() => onPick(record.message_id)}>
        {record.message_id.slice(0, 12)}
      </button>{" "}
      <span className="muted">at</span> {record.route} <span className={`badge lineage-${record.status}`}>{record.status}</span>
      <details>
        <summary className="small muted">payload</summary>
        <JsonView value={record.payload} label={`Payload of ${record.message_id}`} />
      </details>
    </li>
  );
}

function MessageDetail({
  execution,
  messageId,
  onPick,
}: {
  execution: Execution;
  messageId: string;
  onPick: (messageId: string) => void;
}) {
  // Until the server answers ancestry and descendants itself, the tree is
  // drawn from the run's lineage records (read once, at most 50,000).
  const query = useQuery({
    queryKey: ["execution", execution.id, "lineage", "tree"],
    queryFn: () => allRecords(execution.id),
    staleTime: 5_000,
  });
  if (query.isPending) return <Loading what="the message's lineage" />;
  if (query.isError) return <ErrorState error={query.error} what="lineage" retry={() => void query.refetch()} />;
  const tree = messageTree(query.data.records, messageId);
  const record = tree.record;
  if (!record) {
    return (
      <Empty title={`No record of message ${messageId.slice(0, 12)} yet.`}>
        {query.data.complete ? "It has not settled at any route." : "It is past the first 50,000 records."}
      </Empty>
    );
  }
  return (
    <div className="message-detail" data-testid="message-detail" data-message={record.message_id}>
      <dl className="facts">
        <dt>Message</dt>
        <dd className="mono">{record.message_id}</dd>
        <dt>Route</dt>
        <dd>{record.route}</dd>
        <dt>Status</dt>
        <dd>
          <span className={`badge lineage-${record.status}`}>{record.status}</span> after {record.attempt} attempt
          {record.attempt === 1 ? "" : "s"}
        </dd>
        <dt>Finished</dt>
        <dd>{dateTime(record.finished_at)}</dd>
        <dt>Origin</dt>
        <dd className="mono">{record.origin_message_id.slice(0, 12)}</dd>
      </dl>
      {record.error && (
        <>
          <h3>Error</h3>
          <pre className="traceback danger" data-testid="message-error">
            {record.error}
          </pre>
        </>
      )}
      <h3>Payload</h3>
      {record.payload_ref ? (
        <p className="muted">Stored separately ({record.payload_ref}).</p>
      ) : (
        <JsonView value={record.payload} label="Payload" />
      )}
      <h3>Ancestry</h3>
      {tree.ancestry.length === 0 ? (
        <p className="muted">A root message (it came from the source).</p>
      ) : (
        <ol className="tree" data-testid="ancestry">
          {tree.ancestry.map((ancestor) => (
            <RecordLine key={ancestor.message_id} record={ancestor} onPick={onPick} />
          ))}
        </ol>
      )}
      <h3>Descendants</h3>
      {tree.descendants.length === 0 ? (
        <p className="muted">None: nothing was derived from it.</p>
      ) : (
        <ul className="tree" data-testid="descendants">
          {tree.descendants.map(({ record: child, depth }) => (
            <RecordLine key={child.message_id} record={child} onPick={onPick} depth={depth - 1} />
          ))}
        </ul>
      )}
      <p className="small muted">
        <Link to={`../failures`}>All failures</Link>
      </p>
    </div>
  );
}
