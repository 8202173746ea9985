import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { SOURCES, STATUSES, type ExecutionListItem, type ExecutionStatus } from "../../api/types";
import { CopyId } from "../../components/CopyId";
import { Empty, ErrorState, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { SHORT_ID, shortIds } from "../../lib/ids";
import { ago, count, dateTime, duration, elapsed } from "../../lib/format";
import {
  activeFilterCount,
  filtersToSearch,
  listQuery,
  NO_FILTERS,
  parseLabelFilters,
  parseFilters,
  type ExecutionFilters,
} from "./filters";
import { useLiveExecutions } from "./live";


interface PagingState {
  /** Cursors of the pages before this one (for "Previous"). */
  previous?: string[];
}

export function ExecutionsPage() {
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const filters = parseFilters(search);
  const cursor = search.get("cursor") ?? undefined;
  const previous = (location.state as PagingState | null)?.previous ?? [];
  const live = useLiveExecutions(cursor === undefined);

  const query = useQuery({
    queryKey: ["executions", filtersToSearch(filters).toString(), cursor ?? ""],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/executions", { params: { query: listQuery(filters, cursor) }, signal }),
      ),
    placeholderData: keepPreviousData,
  });

  const applyFilters = (next: ExecutionFilters) => {
    void navigate({ search: filtersToSearch(next).toString() });
  };
  const goTo = (nextCursor: string | undefined, stack: string[]) => {
    const next = filtersToSearch(filters);
    if (nextCursor) next.set("cursor", nextCursor);
    void navigate({ search: next.toString() }, { state: { previous: stack } satisfies PagingState });
  };

  return (
    <section aria-labelledby="executions-title">
      <div className="page-header">
        <h1 id="executions-title">Executions</h1>
        <span className="live-indicator" data-live={live.label}>
          {live.label}
        </span>
      </div>
      <FilterBar filters={filters} onApply={applyFilters} />
      {query.isPending ? (
        <Loading what="executions" />
      ) : query.isError ? (
        <ErrorState error={query.error} what="executions" retry={() => void query.refetch()} />
      ) : query.data.items.length === 0 ? (
        activeFilterCount(filters) > 0 || cursor ? (
          <Empty title="No execution matches these filters.">
            <button type="button" onClick={() => applyFilters(NO_FILTERS)}>
              Clear the filters
            </button>
          </Empty>
        ) : (
          <Empty title="No executions yet.">
            Run a config from the <Link to="/configs">Configs</Link> page, or from a terminal:{" "}
            <code>factflow config run examples/pipelines/facts.yaml --follow</code>
          </Empty>
        )
      ) : (
        <>
          <ExecutionTable items={query.data.items} />
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={!cursor} onClick={() => goTo(undefined, [])}>
              ⇤ Newest
            </button>
            <button
              type="button"
              disabled={!cursor}
              onClick={() => goTo(previous.at(-1), previous.slice(0, -1))}
            >
              ← Newer
            </button>
            <button
              type="button"
              disabled={!query.data.next_cursor}
              onClick={() => goTo(query.data.next_cursor ?? undefined, [...previous, cursor ?? ""])}
            >
              Older →
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function FilterBar({
  filters,
  onApply,
}: {
  filters: ExecutionFilters;
  onApply: (filters: ExecutionFilters) => void;
}) {
  const [draft, setDraft] = useState(filters);
  const [synced, setSynced] = useState(filters);
  const [labelText, setLabelText] = useState(filters.label.join(", "));
  // Back/forward changes the URL: show its filters.
  if (filtersToSearch(filters).toString() !== filtersToSearch(synced).toString()) {
    setSynced(filters);
    setDraft(filters);
    setLabelText(filters.label.join(", "));
  }
  const labels = parseLabelFilters(labelText);
  const toggleStatus = (status: ExecutionStatus) => {
    const next = draft.status.includes(status)
      ? draft.status.filter((s) => s !== status)
      : [...draft.status, status];
    const updated = { ...draft, status: next };
    setDraft(updated);
    onApply(updated);
  };
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (labels.error === null) onApply({ ...draft, label: labels.label });
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filters">
      <fieldset className="status-filter">
        <legend>Status</legend>
        {STATUSES.map((status) => (
          <label key={status} className="chip-toggle">
            <input
              type="checkbox"
              checked={draft.status.includes(status)}
              onChange={() => toggleStatus(status)}
            />
            {status}
          </label>
        ))}
      </fieldset>
      <label>
        Config
        <input
          value={draft.config}
          placeholder="name"
          onChange={(event) => setDraft({ ...draft, config: event.target.value.trim() })}
        />
      </label>
      <label>
        Source
        <select
          value={draft.source}
          onChange={(event) => {
            const updated = { ...draft, source: event.target.value as ExecutionFilters["source"] };
            setDraft(updated);
            onApply(updated);
          }}
        >
          <option value="">any</option>
          {SOURCES.map((source) => (
            <option key={source} value={source}>
              {source}
            </option>
          ))}
        </select>
      </label>
      <label>
        Since
        <input
          type="datetime-local"
          value={draft.since}
          onChange={(event) => setDraft({ ...draft, since: event.target.value })}
        />
      </label>
      <label>
        Until
        <input
          type="datetime-local"
          value={draft.until}
          onChange={(event) => setDraft({ ...draft, until: event.target.value })}
        />
      </label>
      <label>
        Labels
        <input
          value={labelText}
          placeholder="team:data, env:prod"
          aria-invalid={labels.error ? true : undefined}
          title={labels.error ?? "key:value, every one must hold"}
          onChange={(event) => setLabelText(event.target.value)}
        />
        {labels.error && <span className="form-error small">{labels.error}</span>}
      </label>
      {filters.schedule && (
        <span className="chip" data-filter="schedule">
          fired by schedule{" "}
          <Link to={`/schedules/${encodeURIComponent(filters.schedule)}`}>{filters.schedule.slice(0, SHORT_ID)}</Link>{" "}
          <button
            type="button"
            className="icon-button"
            aria-label="Show runs of any schedule"
            onClick={() => onApply({ ...draft, schedule: "" })}
          >
            ✕
          </button>
        </span>
      )}
      <div className="filter-actions">
        <button type="submit" className="primary">
          Apply
        </button>
        {activeFilterCount(filters) > 0 && (
          <button type="button" onClick={() => onApply(NO_FILTERS)}>
            Clear
          </button>
        )}
      </div>
    </form>
  );
}

function ExecutionTable({ items }: { items: ExecutionListItem[] }) {
  const navigate = useNavigate();
  // Ids share their time prefix: show each one's shortest prefix that is
  // unique on the page (what `factflow execution list` shows and accepts).
  const short = shortIds(items.map((execution) => execution.id));
  return (
    <div className="table-wrap">
      <table className="data-table executions-table">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Execution</th>
            <th scope="col">Config</th>
            <th scope="col">Source</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
            <th scope="col" className="num">Processed</th>
            <th scope="col" className="num">Failed</th>
            <th scope="col" className="num">In flight</th>
            <th scope="col">Labels</th>
          </tr>
        </thead>
        <tbody>
          {items.map((execution) => {
            const totals = execution.stats?.totals;
            return (
              <tr
                key={execution.id}
                data-execution-id={execution.id}
                className="clickable"
                onClick={(event) => {
                  if ((event.target as HTMLElement).closest("a,button")) return;
                  void navigate(`/executions/${execution.id}`);
                }}
              >
                <td>
                  <StatusBadge status={execution.status} queuePosition={execution.queue_position} />
                </td>
                <td>
                  <CopyId id={execution.id}>
                    <Link to={`/executions/${execution.id}`} className="id-link" data-short-id>
                      {short.get(execution.id) ?? execution.id}
                    </Link>
                  </CopyId>
                  {execution.parent_execution_id && (
                    <span className="muted small"> ↳ {execution.source}</span>
                  )}
                </td>
                <td>
                  <Link to={`/configs/${execution.config_name}`}>{execution.config_name}</Link>
                  {execution.config_version !== null && (
                    <span className="muted"> v{execution.config_version}</span>
                  )}
                </td>
                <td>
                  {execution.schedule_id ? (
                    <Link to={`/schedules/${execution.schedule_id}`} title="The schedule that fired it">
                      {execution.source}
                    </Link>
                  ) : (
                    execution.source
                  )}
                </td>
                <td title={dateTime(execution.created_at)}>{ago(execution.created_at)}</td>
                <td>{duration(elapsed(execution.started_at, execution.finished_at))}</td>
                <td className="num">{count(totals?.processed)}</td>
                <td className={totals?.failed ? "num danger" : "num"}>{count(totals?.failed)}</td>
                <td className="num">{count(totals?.in_flight)}</td>
                <td>
                  {Object.entries(execution.labels ?? {}).map(([key, value]) => (
                    <Link
                      key={key}
                      className="chip"
                      title="Show runs with this label"
                      to={`/executions?label=${encodeURIComponent(`${key}:${value}`)}`}
                    >
                      {key}:{value}
                    </Link>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
