// The config pages' route components (one lazily loaded chunk).
export { ConfigPage } from "./ConfigPage";
export { ConfigsPage } from "./ConfigsPage";
export { DiffPage } from "./DiffPage";
export { EditorPage } from "./EditorPage";
