import { createBrowserRouter, Link, Navigate } from "react-router";
import { Empty, Loading } from "../components/States";
import { ExecutionsPage } from "../features/executions/ExecutionsPage";
import { Layout } from "./Layout";

function NotFound() {
  return (
    <Empty title="No such page.">
      Go to the <Link to="/executions">executions</Link> or the <Link to="/configs">configs</Link>.
    </Empty>
  );
}

// The executions list is in the first bundle (it is the landing page); the
// execution page (React Flow, dagre) and the config pages (YAML, diff) load
// on first use, so the list is usable sooner.
const execution = () => import("../features/execution/pages");
const configs = () => import("../features/configs/pages");
const schedules = () => import("../features/schedules/pages");

export const router = createBrowserRouter([
  {
    element: <Layout />,
    hydrateFallbackElement: <Loading what="the page" />,
    children: [
      { index: true, element: <Navigate to="/executions" replace /> },
      { path: "login", element: <Navigate to="/executions" replace /> },
      { path: "executions", element: <ExecutionsPage /> },
      {
        path: "executions/:executionId",
        lazy: async () => ({ Component: (await execution()).ExecutionPage }),
        children: [
          { index: true, lazy: async () => ({ Component: (await execution()).OverviewTab }) },
          { path: "lineage", lazy: async () => ({ Component: (await execution()).LineageTab }) },
          { path: "failures", lazy: async () => ({ Component: (await execution()).FailuresTab }) },
          { path: "storage", lazy: async () => ({ Component: (await execution()).StorageTab }) },
          { path: "logs", lazy: async () => ({ Component: (await execution()).LogsTab }) },
        ],
      },
      { path: "configs", lazy: async () => ({ Component: (await configs()).ConfigsPage }) },
      { path: "configs/new", lazy: async () => ({ Component: (await configs()).EditorPage }) },
      { path: "configs/:name", lazy: async () => ({ Component: (await configs()).ConfigPage }) },
      { path: "configs/:name/edit", lazy: async () => ({ Component: (await configs()).EditorPage }) },
      { path: "configs/:name/diff", lazy: async () => ({ Component: (await configs()).DiffPage }) },
      { path: "schedules", lazy: async () => ({ Component: (await schedules()).SchedulesPage }) },
      { path: "schedules/new", lazy: async () => ({ Component: (await schedules()).NewSchedulePage }) },
      { path: "schedules/:scheduleRef", lazy: async () => ({ Component: (await schedules()).SchedulePage }) },
      { path: "queue", lazy: async () => ({ Component: (await import("../features/queue/QueuePage")).QueuePage }) },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
