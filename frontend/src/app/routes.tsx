import { createBrowserRouter, Link, Navigate } from "react-router";
import { Empty } from "../components/States";
import { ConfigPage } from "../features/configs/ConfigPage";
import { ConfigsPage } from "../features/configs/ConfigsPage";
import { DiffPage } from "../features/configs/DiffPage";
import { EditorPage } from "../features/configs/EditorPage";
import { ExecutionPage } from "../features/execution/ExecutionPage";
import { FailuresTab } from "../features/execution/FailuresTab";
import { LineageTab } from "../features/execution/LineageTab";
import { LogsTab } from "../features/execution/LogsTab";
import { OverviewTab } from "../features/execution/OverviewTab";
import { StorageTab } from "../features/execution/StorageTab";
import { ExecutionsPage } from "../features/executions/ExecutionsPage";
import { Layout } from "./Layout";

function NotFound() {
  return (
    <Empty title="No such page.">
      Go to the <Link to="/executions">executions</Link> or the <Link to="/configs">configs</Link>.
    </Empty>
  );
}

export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/executions" replace /> },
      { path: "login", element: <Navigate to="/executions" replace /> },
      { path: "executions", element: <ExecutionsPage /> },
      {
        path: "executions/:executionId",
        element: <ExecutionPage />,
        children: [
          { index: true, element: <OverviewTab /> },
          { path: "lineage", element: <LineageTab /> },
          { path: "failures", element: <FailuresTab /> },
          { path: "storage", element: <StorageTab /> },
          { path: "logs", element: <LogsTab /> },
        ],
      },
      { path: "configs", element: <ConfigsPage /> },
      { path: "configs/new", element: <EditorPage /> },
      { path: "configs/:name", element: <ConfigPage /> },
      { path: "configs/:name/edit", element: <EditorPage /> },
      { path: "configs/:name/diff", element: <DiffPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
