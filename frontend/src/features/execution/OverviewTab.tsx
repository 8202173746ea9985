import { useOutletContext } from "react-router";
import type { Execution } from "../../api/types";
import { count } from "../../lib/format";
import { DagView } from "./DagView";
import { useExecutionLive } from "./events";
import { Timeline } from "./Timeline";

export function OverviewTab() {
  const execution = useOutletContext<Execution>();
  const { counts } = useExecutionLive();
  const totals = counts.totals ?? execution.stats?.totals;
  const stats = execution.stats;
  return (
    <div className="overview">
      <dl className="totals" aria-label="Totals" data-testid="totals">
        {(["received", "processed", "failed", "filtered", "cancelled", "in_flight"] as const).map((field) => (
          <div key={field} className={field === "failed" && (totals?.[field] ?? 0) > 0 ? "danger" : undefined}>
            <dt>{field.replace("_", " ")}</dt>
            <dd data-total={field}>{count(totals?.[field] ?? 0)}</dd>
          </div>
        ))}
        {(totals?.lost ?? 0) > 0 && (
          <div className="warn" title="Received from recorded parents but never recorded when the server process died; a resume processes them.">
            <dt>lost</dt>
            <dd data-total="lost">{count(totals?.lost ?? 0)}</dd>
          </div>
        )}
        <div>
          <dt>objects</dt>
          <dd>{count(stats?.storage_objects ?? 0)}</dd>
        </div>
      </dl>
      <DagView executionId={execution.id} />
      <Timeline />
    </div>
  );
}
