import { Link } from "react-router";
import type { Schedule } from "../../api/types";
import { Empty, ErrorState, Loading } from "../../components/States";
import { ago, dateTime, fromNow } from "../../lib/format";
import { useChangeFeed } from "../../lib/useChangeFeed";
import { SCHEDULES_KEY, useScheduleAction, useSchedules } from "./queries";
import { triggerText } from "./trigger";

const LIVE_KEYS = [SCHEDULES_KEY];

/** /schedules — every schedule by name, with its next and last fire. */
export function SchedulesPage() {
  const query = useSchedules();
  useChangeFeed(true, LIVE_KEYS);
  return (
    <section aria-labelledby="schedules-title">
      <div className="page-header">
        <h1 id="schedules-title">Schedules</h1>
        <Link className="button primary" to="/schedules/new">
          New schedule
        </Link>
      </div>
      {query.isPending ? (
        <Loading what="schedules" />
      ) : query.isError ? (
        <ErrorState error={query.error} what="schedules" retry={() => void query.refetch()} />
      ) : query.data.items.length === 0 ? (
        <Empty title="No schedules yet.">
          Schedule a config from its page (<Link to="/configs">Configs</Link> → a config → Schedule…), with{" "}
          <Link to="/schedules/new">New schedule</Link>, or from a terminal:{" "}
          <code>factflow schedule create nightly --config facts --cron &quot;0 2 * * *&quot;</code>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Config</th>
                <th scope="col">Trigger</th>
                <th scope="col">Next fire</th>
                <th scope="col">Last fire</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {query.data.items.map((schedule) => (
                <ScheduleRow key={schedule.id} schedule={schedule} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ScheduleRow({ schedule }: { schedule: Schedule }) {
  const action = useScheduleAction(schedule.id);
  return (
    <tr data-schedule={schedule.name}>
      <td>
        <Link to={`/schedules/${encodeURIComponent(schedule.name)}`}>{schedule.name}</Link>
      </td>
      <td>
        <PausedBadge paused={schedule.paused} />
      </td>
      <td>
        <Link to={`/configs/${encodeURIComponent(schedule.config_name)}`}>{schedule.config_name}</Link>
        <span className="muted"> {schedule.config_version === null ? "latest" : `v${schedule.config_version}`}</span>
      </td>
      <td className="mono">{triggerText(schedule)}</td>
      <td title={dateTime(schedule.next_fire_at)}>{schedule.paused ? "–" : fromNow(schedule.next_fire_at)}</td>
      <td title={dateTime(schedule.last_fire_at)}>{ago(schedule.last_fire_at)}</td>
      <td>
        <button
          type="button"
          disabled={action.isPending}
          onClick={() => action.mutate(schedule.paused ? "resume" : "pause")}
          aria-label={`${schedule.paused ? "Resume" : "Pause"} ${schedule.name}`}
        >
          {schedule.paused ? "Resume" : "Pause"}
        </button>
        {action.isError && (
          <span className="form-error small" role="alert">
            {" "}
            {action.error.message}
          </span>
        )}
      </td>
    </tr>
  );
}

export function PausedBadge({ paused }: { paused: boolean }) {
  return (
    <span className={`badge ${paused ? "status-cancelled" : "status-running"}`} data-paused={paused}>
      {paused ? "paused" : "active"}
    </span>
  );
}
