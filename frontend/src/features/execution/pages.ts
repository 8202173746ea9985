// The execution page's route components (one lazily loaded chunk).
export { ExecutionPage } from "./ExecutionPage";
export { FailuresTab } from "./FailuresTab";
export { LineageTab } from "./LineageTab";
export { LogsTab } from "./LogsTab";
export { OverviewTab } from "./OverviewTab";
export { StorageTab } from "./StorageTab";
