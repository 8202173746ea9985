import { useMemo, useState } from "react";
import { Link, NavLink, Outlet, useParams } from "react-router";
import type { Execution } from "../../api/types";
import { CopyId } from "../../components/CopyId";
import { SHORT_ID } from "../../lib/ids";
import { ErrorState, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { dateTime, duration, elapsed } from "../../lib/format";
import { asText } from "../../lib/text";
import { useChangeFeed } from "../../lib/useChangeFeed";
import { Actions } from "./Actions";
import { ExecutionLiveContext, useExecutionEvents } from "./events";
import { useExecution } from "./queries";
import { SelectionContext, type Selection } from "./selection";

/** /executions/:id/* — the header and actions, tabs below (each its own URL). */
export function ExecutionPage() {
  const { executionId = "" } = useParams();
  const query = useExecution(executionId);
  const live = useExecutionEvents(query.data?.id ?? executionId);
  // A queued run's place moves when other runs start or leave the queue, which
  // its own event stream does not tell: follow the change feed while it waits.
  useChangeFeed(query.data?.status === "pending", [["execution", executionId, "row"]]);
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const selection = useMemo<Selection>(
    () => ({
      ids: picked,
      toggle: (id) =>
        setPicked((current) => {
          const next = new Set(current);
          if (!next.delete(id)) next.add(id);
          return next;
        }),
      clear: () => setPicked(new Set()),
    }),
    [picked],
  );

  if (query.isPending) return <Loading what="the execution" />;
  if (query.isError) {
    return <ErrorState error={query.error} what={`execution ${executionId}`} retry={() => void query.refetch()} />;
  }
  const execution = query.data;
  return (
    <ExecutionLiveContext.Provider value={live}>
      <SelectionContext.Provider value={selection}>
      <section aria-labelledby="execution-title" data-execution-id={execution.id}>
        <div className="page-header">
          <h1 id="execution-title">
            <Link to={`/configs/${execution.config_name}`}>{execution.config_name}</Link>
            {execution.config_version !== null && <span className="muted"> v{execution.config_version}</span>}
          </h1>
          <StatusBadge status={execution.status} queuePosition={execution.queue_position} />
          <CopyId id={execution.id} full />
          <Actions execution={execution} />
        </div>
        <Summary execution={execution} />
        <nav className="tabs" aria-label="Execution views">
          <NavLink end to="">
            Overview
          </NavLink>
          <NavLink to="lineage">Lineage</NavLink>
          <NavLink to="failures">Failures</NavLink>
          <NavLink to="storage">Storage</NavLink>
          <NavLink to="logs">Logs</NavLink>
        </nav>
        <Outlet context={execution} />
      </section>
      </SelectionContext.Provider>
    </ExecutionLiveContext.Provider>
  );
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function Summary({ execution }: { execution: Execution }) {
  const params = (execution.config_snapshot["params"] ?? {}) as Record<string, unknown>;
  const replay = execution.replay_source;
  return (
    <dl className="summary card">
      <div>
        <dt>Source</dt>
        <dd>
          {execution.source}
          {execution.schedule_id && (
            <>
              {" "}
              <Link to={`/schedules/${execution.schedule_id}`} data-testid="schedule-link">
                (its schedule)
              </Link>
            </>
          )}
        </dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>{dateTime(execution.created_at)}</dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>{dateTime(execution.started_at)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>{dateTime(execution.finished_at)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd data-testid="duration">{duration(elapsed(execution.started_at, execution.finished_at))}</dd>
      </div>
      {execution.parent_execution_id && (
        <div>
          <dt>{execution.source === "replay" ? "Replay of" : execution.source === "resume" ? "Resume of" : "Parent"}</dt>
          <dd>
            <Link to={`/executions/${execution.parent_execution_id}`} data-testid="parent-link">
              {execution.parent_execution_id.slice(0, SHORT_ID)}
            </Link>
            {replay && (
              <span className="muted small">
                {" "}
                ({replay.mode}
                {replay.route ? ` at ${replay.route}` : ""}
                {replay.mode === "ids" ? `, ${replay.message_ids?.length ?? 0} messages` : ""})
              </span>
            )}
          </dd>
        </div>
      )}
      <div>
        <dt>Replays</dt>
        <dd>
          <Link to={`/executions?config=${encodeURIComponent(execution.config_name)}&source=replay`}>
            replays of {execution.config_name}
          </Link>
        </dd>
      </div>
      <div className="wide">
        <dt>Params</dt>
        <dd>
          {Object.keys(params).length === 0 ? (
            <span className="muted">none</span>
          ) : (
            Object.entries(params).map(([key, value]) => (
              <span key={key} className="chip" title={asText(value)}>
                {key}={clip(asText(value), 72)}
              </span>
            ))
          )}
        </dd>
      </div>
      <div className="wide">
        <dt>Labels</dt>
        <dd>
          {Object.keys(execution.labels ?? {}).length === 0 ? (
            <span className="muted">none</span>
          ) : (
            Object.entries(execution.labels ?? {}).map(([key, value]) => (
              <Link key={key} className="chip" to={`/executions?label=${encodeURIComponent(`${key}:${value}`)}`}>
                {key}:{value}
              </Link>
            ))
          )}
        </dd>
      </div>
      {execution.error && (
        <div className="wide">
          <dt>Error</dt>
          <dd className="danger" data-testid="execution-error">
            {execution.error}
          </dd>
        </div>
      )}
    </dl>
  );
}
