import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import type { FireOutcome, Schedule } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { Empty, ErrorState, Loading } from "../../components/States";
import { dateTime, fromNow } from "../../lib/format";
import { shortIds } from "../../lib/ids";
import { useChangeFeed } from "../../lib/useChangeFeed";
import { SCHEDULES_KEY, useFires, useNextFires, useSchedule, useScheduleAction } from "./queries";
import { PausedBadge } from "./SchedulesPage";
import { triggerText } from "./trigger";

const LIVE_KEYS = [SCHEDULES_KEY];
const NEXT_COUNT = 8;
const FIRES_PAGE = 20;

/** /schedules/:ref?before=… — one schedule: its trigger, next fire times, recent fires. */
export function SchedulePage() {
  const { scheduleRef = "" } = useParams();
  const schedule = useSchedule(scheduleRef);
  // A fire creates a run: the change feed says when to read the fires again.
  useChangeFeed(schedule.isSuccess, LIVE_KEYS);

  if (schedule.isPending) return <Loading what={`schedule ${scheduleRef}`} />;
  if (schedule.isError) {
    return <ErrorState error={schedule.error} what={`schedule ${scheduleRef}`} retry={() => void schedule.refetch()} />;
  }
  return <ScheduleView schedule={schedule.data} />;
}

function ScheduleView({ schedule }: { schedule: Schedule }) {
  const navigate = useNavigate();
  const action = useScheduleAction(schedule.id);
  const [deleting, setDeleting] = useState(false);
  return (
    <section aria-labelledby="schedule-title">
      <div className="page-header">
        <h1 id="schedule-title">{schedule.name}</h1>
        <PausedBadge paused={schedule.paused} />
        <div className="actions">
          <button
            type="button"
            className={schedule.paused ? "primary" : undefined}
            disabled={action.isPending}
            onClick={() => action.mutate(schedule.paused ? "resume" : "pause")}
          >
            {schedule.paused ? "Resume" : "Pause"}
          </button>
          <Link className="button" to={`/executions?schedule=${encodeURIComponent(schedule.id)}`}>
            Runs
          </Link>
          <button type="button" className="danger" onClick={() => setDeleting(true)}>
            Delete…
          </button>
        </div>
      </div>
      {action.isError && !deleting && (
        <p className="form-error" role="alert">
          {action.error.message}
        </p>
      )}
      <dl className="summary">
        <div>
          <dt>Config</dt>
          <dd>
            <Link to={`/configs/${encodeURIComponent(schedule.config_name)}`}>{schedule.config_name}</Link>{" "}
            <span className="muted">
              {schedule.config_version === null ? "latest version" : `v${schedule.config_version}`}
            </span>
          </dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd className="mono" data-testid="trigger">
            {triggerText(schedule)}
          </dd>
        </div>
        <div>
          <dt>Next fire</dt>
          <dd title={dateTime(schedule.next_fire_at)} data-testid="next-fire">
            {schedule.paused ? "– (paused)" : fromNow(schedule.next_fire_at)}
          </dd>
        </div>
        <div>
          <dt>Last fire</dt>
          <dd>{dateTime(schedule.last_fire_at)}</dd>
        </div>
        <div>
          <dt>After downtime</dt>
          <dd>
            {schedule.catchup === "skip"
              ? `skip (runs if ≤ ${schedule.misfire_grace_seconds} s late)`
              : schedule.catchup === "once"
                ? "one catch-up run"
                : `every missed time (≤ ${schedule.catchup_limit})`}
          </dd>
        </div>
        <div>
          <dt>Max active runs</dt>
          <dd>{schedule.max_active_runs ?? "no limit"}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{dateTime(schedule.created_at)}</dd>
        </div>
        <div className="wide">
          <dt>Params</dt>
          <dd>
            {Object.keys(schedule.params).length === 0 ? (
              <span className="muted">the config&apos;s defaults</span>
            ) : (
              Object.entries(schedule.params).map(([key, value]) => (
                <span key={key} className="chip">
                  {key}={JSON.stringify(value)}
                </span>
              ))
            )}
          </dd>
        </div>
        {Object.keys(schedule.labels).length > 0 && (
          <div className="wide">
            <dt>Labels</dt>
            <dd>
              {Object.entries(schedule.labels).map(([key, value]) => (
                <span key={key} className="chip">
                  {key}:{value}
                </span>
              ))}
            </dd>
          </div>
        )}
        {schedule.description && (
          <div className="wide">
            <dt>Description</dt>
            <dd>{schedule.description}</dd>
          </div>
        )}
      </dl>
      <div className="split">
        <NextFires schedule={schedule} />
        <Fires schedule={schedule} />
      </div>
      <Dialog open={deleting} title={`Delete schedule ${schedule.name}?`} onClose={() => setDeleting(false)}>
        <div className="stack">
          <p>
            No more runs will be started. Its fire records go; the runs it started stay (
            <Link to={`/executions?schedule=${encodeURIComponent(schedule.id)}`}>its runs</Link>).
          </p>
          {action.isError && (
            <p className="form-error" role="alert">
              {action.error.message}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" onClick={() => setDeleting(false)}>
              Keep it
            </button>
            <button
              type="button"
              className="danger"
              disabled={action.isPending}
              onClick={() =>
                action.mutate("delete", {
                  onSuccess: () => {
                    setDeleting(false);
                    void navigate("/schedules");
                  },
                })
              }
            >
              Delete schedule
            </button>
          </div>
        </div>
      </Dialog>
    </section>
  );
}

function NextFires({ schedule }: { schedule: Schedule }) {
  const next = useNextFires(schedule.id, NEXT_COUNT);
  return (
    <div className="card" aria-labelledby="next-title">
      <div className="card-header">
        <h2 id="next-title">Next fire times</h2>
        <span className="muted small">
          {schedule.paused ? "if resumed now" : schedule.cron ? `cron read in ${schedule.timezone}` : "UTC"}
        </span>
      </div>
      {next.isPending ? (
        <Loading what="the next fire times" />
      ) : next.isError ? (
        <ErrorState error={next.error} what="the next fire times" retry={() => void next.refetch()} />
      ) : next.data.times.length === 0 ? (
        <Empty title="No coming fire times." />
      ) : (
        <ol className="fire-times" data-testid="next-fires">
          {next.data.times.map((time) => (
            <li key={time}>
              <time dateTime={time}>{dateTime(time)}</time> <span className="muted small">{fromNow(time)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

const OUTCOME_CLASS: Record<FireOutcome, string> = {
  started: "status-completed",
  skipped: "status-pending",
  failed: "status-failed",
};

function Fires({ schedule }: { schedule: Schedule }) {
  const [search, setSearch] = useSearchParams();
  const before = search.get("before") ?? undefined;
  const fires = useFires(schedule.id, before, FIRES_PAGE);
  const page = (next: string | undefined) => {
    const updated = new URLSearchParams(search);
    if (next) updated.set("before", next);
    else updated.delete("before");
    setSearch(updated);
  };
  const runIds = fires.data?.items.flatMap((fire) => (fire.execution_id ? [fire.execution_id] : [])) ?? [];
  const short = shortIds(runIds);
  return (
    <div className="card" aria-labelledby="fires-title">
      <div className="card-header">
        <h2 id="fires-title">Recent fires</h2>
        <span className="muted small">newest first</span>
      </div>
      {fires.isPending ? (
        <Loading what="the fires" />
      ) : fires.isError ? (
        <ErrorState error={fires.error} what="the fires" retry={() => void fires.refetch()} />
      ) : fires.data.items.length === 0 ? (
        <Empty title={before ? "No older fires." : "It has not fired yet."}>
          {!before && !schedule.paused && schedule.next_fire_at && `The first run starts ${fromNow(schedule.next_fire_at)}.`}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="data-table" data-testid="fires">
            <thead>
              <tr>
                <th scope="col">Fire time</th>
                <th scope="col">Outcome</th>
                <th scope="col">Run</th>
                <th scope="col">Reason</th>
                <th scope="col">Claimed by</th>
              </tr>
            </thead>
            <tbody>
              {fires.data.items.map((fire) => (
                <tr key={fire.fire_time} data-fire={fire.fire_time} data-outcome={fire.outcome}>
                  <td title={`claimed ${dateTime(fire.claimed_at)}`}>{dateTime(fire.fire_time)}</td>
                  <td>
                    <span className={`badge ${OUTCOME_CLASS[fire.outcome]}`}>{fire.outcome}</span>
                  </td>
                  <td>
                    {fire.execution_id ? (
                      <Link to={`/executions/${fire.execution_id}`} className="id-link">
                        {short.get(fire.execution_id) ?? fire.execution_id}
                      </Link>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td className="truncate" title={fire.reason ?? ""}>
                    {fire.reason ?? ""}
                  </td>
                  <td className="muted small">{fire.claimed_by}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Fire pages">
        <button type="button" disabled={!before} onClick={() => page(undefined)}>
          ⇤ Newest
        </button>
        <button type="button" disabled={!fires.data?.next_before} onClick={() => page(fires.data?.next_before ?? undefined)}>
          Older →
        </button>
      </nav>
    </div>
  );
}
