import type { ExecutionStatus } from "../api/types";
import { queuePlace } from "../lib/format";

const LABEL: Record<ExecutionStatus, string> = {
  pending: "pending",
  running: "running",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
  interrupted: "interrupted",
};

/** The status; a run waiting in the run queue also shows its place ("pending · #3 in queue"). */
export function StatusBadge({ status, queuePosition }: { status: ExecutionStatus; queuePosition?: number | null }) {
  const place = status === "pending" ? queuePlace(queuePosition) : null;
  return (
    <>
      <span className={`badge status-${status}`} data-status={status}>
        {status === "running" && <span className="pulse" aria-hidden="true" />}
        {LABEL[status]}
      </span>
      {place !== null && (
        <span className="queue-place muted small" data-queue-position={queuePosition}>
          {" · "}
          {place}
        </span>
      )}
    </>
  );
}
