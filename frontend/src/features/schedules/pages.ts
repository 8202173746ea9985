// The schedule pages' route components (one lazily loaded chunk).
export { NewSchedulePage } from "./NewSchedulePage";
export { SchedulePage } from "./SchedulePage";
export { SchedulesPage } from "./SchedulesPage";
