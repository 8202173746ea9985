import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useOutletContext, useSearchParams } from "react-router";
import { ApiError } from "../../api/client";
import { isTerminal, type Execution, type LineageRecord } from "../../api/types";
import { JsonView } from "../../components/JsonView";
import { Empty, ErrorState, Loading } from "../../components/States";
import { count, dateTime } from "../../lib/format";
import { SHORT_ID } from "../../lib/ids";
import { fetchLineage, useAncestry, useDescendants, usePayload, type LineageFilter } from "./queries";
import { useSelection } from "./selection";

const PAGE = 200;
const STATUSES = ["processed", "failed", "filtered", "cancelled"] as const;

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

/** A record's input payload: inline, or read from storage when the record keeps it there. */
function Payload({ execution, record, eager = false }: { execution: Execution; record: LineageRecord; eager?: boolean }) {
  const stored = record.payload === null && !!record.payload_ref;
  const [asked, setAsked] = useState(eager);
  const query = usePayload(execution.id, record.message_id, stored && asked);
  if (!stored) return <JsonView value={record.payload} label={`Payload of ${record.message_id}`} />;
  if (!asked) {
    return (
      <p className="muted small">
        Kept in storage (over 64 KiB).{" "}
        <button type="button" onClick={() => setAsked(true)}>
          Load it
        </button>
      </p>
    );
  }
  if (query.isPending) return <Loading what="the payload" />;
  if (query.isError) return <ErrorState error={query.error} what="the payload" retry={() => void query.refetch()} />;
  return <JsonView value={query.data} label={`Payload of ${record.message_id}`} />;
}

function RecordLine({
  execution,
  record,
  onPick,
  depth = 0,
}: {
  execution: Execution;
  record: LineageRecord;
  onPick: (id: string) => void;
  depth?: number;
}) {
  const [open, setOpen] = useState(false);
  return (
    <li style={{ marginLeft: `${depth * 1.1}rem` }} data-tree-message={record.message_id}>
      <button type="button" className="link-button mono" onClick={() => onPick(record.message_id)}>
        {record.message_id.slice(0, 12)}
      </button>{" "}
      <span className="muted">at</span> {record.route} <span className={`badge lineage-${record.status}`}>{record.status}</span>
      <details onToggle={(event) => setOpen(event.currentTarget.open)}>
        <summary className="small muted">payload</summary>
        {open && <Payload execution={execution} record={record} eager />}
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
  // Ancestry and descendants come from the server, which walks the lineage
  // by index (the subtree bounded), whatever the size of the run.
  const ancestry = useAncestry(execution.id, messageId);
  const descendants = useDescendants(execution.id, messageId);
  if (ancestry.isPending) return <Loading what="the message's lineage" />;
  if (ancestry.isError) {
    if (ancestry.error instanceof ApiError && ancestry.error.status === 404) {
      return (
        <Empty title={`No record of message ${messageId.slice(0, 12)} yet.`}>
          It has not settled at any route of this run{isTerminal(execution.status) ? "." : " so far."}
        </Empty>
      );
    }
    return <ErrorState error={ancestry.error} what="lineage" retry={() => void ancestry.refetch()} />;
  }
  const chain = ancestry.data.items;
  const record = chain.at(-1);
  if (!record) return <Empty title={`No record of message ${messageId.slice(0, 12)} yet.`} />;
  const continues = ancestry.data.continues;
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
      <Payload execution={execution} record={record} />
      <h3>Ancestry</h3>
      {continues && (
        <p className="small" data-testid="continues">
          Continues message <code>{continues.message_id.slice(0, 12)}</code> of{" "}
          {continues.execution_id ? (
            <Link to={`/executions/${continues.execution_id}/lineage?message=${continues.message_id}`}>
              the run it replays ({continues.execution_id.slice(0, SHORT_ID)})
            </Link>
          ) : (
            "a run since deleted"
          )}
          .
        </p>
      )}
      {chain.length <= 1 ? (
        !continues && <p className="muted">A root message (it came from the source).</p>
      ) : (
        <ol className="tree" data-testid="ancestry">
          {chain.slice(0, -1).map((ancestor) => (
            <RecordLine key={ancestor.id} execution={execution} record={ancestor} onPick={onPick} />
          ))}
        </ol>
      )}
      <h3>Descendants</h3>
      {descendants.isPending ? (
        <Loading what="the descendants" />
      ) : descendants.isError ? (
        <ErrorState error={descendants.error} what="the descendants" retry={() => void descendants.refetch()} />
      ) : descendants.data.items.length === 0 ? (
        <p className="muted">None: nothing was derived from it{isTerminal(execution.status) ? "." : " yet."}</p>
      ) : (
        <>
          <ul className="tree" data-testid="descendants">
            {descendants.data.items.map((child) => (
              <RecordLine key={child.id} execution={execution} record={child} onPick={onPick} depth={child.depth - 1} />
            ))}
          </ul>
          {descendants.data.truncated && (
            <p className="small muted" data-testid="descendants-truncated">
              The first {count(descendants.data.items.length)} shown; the subtree has more. Pick one of them to go
              further down.
            </p>
          )}
        </>
      )}
      <p className="small muted">
        <Link to={`../logs?message=${record.message_id}`}>Its log records</Link> ·{" "}
        <Link to={`../failures`}>All failures</Link>
      </p>
    </div>
  );
}
