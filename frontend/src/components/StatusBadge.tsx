import type { ExecutionStatus } from "../api/types";

const LABEL: Record<ExecutionStatus, string> = {
  pending: "pending",
  running: "running",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
  interrupted: "interrupted",
};

export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {status === "running" && <span className="pulse" aria-hidden="true" />}
      {LABEL[status]}
    </span>
  );
}
