// Named shapes of the API, all taken from the generated OpenAPI types
// (schema.d.ts): a server change that breaks the UI breaks the type check.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];

export type Execution = Schemas["PipelineExecution"];
export type ExecutionStatus = Execution["status"];
export type ExecutionSource = Schemas["ConfigSourceType"];
export type ExecutionStats = Schemas["ExecutionStats"];
export type StatsCounts = Schemas["StatsCounts"];
export type RouteStats = Schemas["RouteStats"];
export type ExecutionList = Schemas["ExecutionList"];
/** A list item: the row and its stats, without the config snapshot. */
export type ExecutionListItem = Schemas["ExecutionListItem"];
export type Dag = Schemas["DAGResponse"];
export type DagNode = Schemas["DAGNode"];
export type DagEdge = Schemas["DAGEdge"];
export type LineageRecord = Schemas["LineageRecordOut"];
export type StorageObject = Schemas["StorageObjectOut"];
export type PipelineConfig = Schemas["PipelineConfig"];
export type ExecutionEvent = Schemas["ExecutionEvent"];
export type Problem = Schemas["Problem"];
export type SessionInfo = Schemas["SessionInfo"];
export type ReplayRequest = Schemas["ReplayRequest"];
export type RunRequest = Schemas["RunRequest"];

export const STATUSES: readonly ExecutionStatus[] = [
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
  "interrupted",
];
export const TERMINAL: ReadonlySet<ExecutionStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
  "interrupted",
]);
export const SOURCES: readonly ExecutionSource[] = ["api", "cli", "demo", "replay", "resume", "schedule"];

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL.has(status);
}

export type Schedule = Schemas["ScheduleOut"];
export type ScheduleCreate = Schemas["ScheduleCreate"];
export type ScheduleFire = Schemas["ScheduleFireOut"];
export type FireOutcome = ScheduleFire["outcome"];
export type Catchup = Schedule["catchup"];
export type LogRecord = Schemas["ExecutionLogRecord"];
export type LogLevel = NonNullable<NonNullable<operations["list_logs"]["parameters"]["query"]>["level"]>;
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warning", "error", "critical"];
