import { Empty } from "../../components/States";

/** /executions/:id/logs — per-run logs, once the server records them. */
export function LogsTab() {
  return (
    <Empty title="This server does not record per-run logs yet.">
      Processor and adapter logs go to the server&apos;s own output (its terminal or service log). Errors of failed
      messages are on the <em>Failures</em> tab.
    </Empty>
  );
}
