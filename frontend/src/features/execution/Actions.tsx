import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError, api, unwrap } from "../../api/client";
import { isTerminal, type Execution, type ReplayRequest } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { asText } from "../../lib/text";
import { parseLabels } from "../configs/params";
import { routesOf } from "./LineageTab";
import { useSelection } from "./selection";

type ReplayMode = NonNullable<ReplayRequest["mode"]>;

const MODES: { mode: ReplayMode; label: string; help: string }[] = [
  { mode: "failed", label: "Failed messages", help: "Re-inject every message that failed, at its route." },
  { mode: "cancelled", label: "Cancelled messages", help: "Those a stop left unfinished (recorded cancelled)." },
  { mode: "unfinished", label: "Failed and cancelled", help: "Everything that did not settle as processed or filtered." },
  { mode: "all", label: "All root messages", help: "Re-run everything from the source messages (adapters do not run again)." },
  { mode: "ids", label: "Selected messages", help: "The messages ticked in the Lineage tab." },
];

export function Actions({ execution }: { execution: Execution }) {
  const client = useQueryClient();
  const [dialog, setDialog] = useState<"cancel" | "replay" | "resume" | null>(null);
  const active = !isTerminal(execution.status);
  const resumable = execution.status === "interrupted" || execution.status === "cancelled";
  const refresh = () => client.invalidateQueries({ queryKey: ["execution", execution.id] });

  return (
    <div className="actions">
      {active && (
        <button type="button" className="danger" onClick={() => setDialog("cancel")}>
          Cancel run
        </button>
      )}
      {resumable && (
        <button type="button" className="primary" onClick={() => setDialog("resume")}>
          Resume…
        </button>
      )}
      {!active && (
        <button type="button" onClick={() => setDialog("replay")}>
          Replay…
        </button>
      )}
      <CancelDialog
        execution={execution}
        open={dialog === "cancel"}
        onClose={() => setDialog(null)}
        onDone={() => void refresh()}
      />
      <ReplayDialog execution={execution} open={dialog === "replay"} onClose={() => setDialog(null)} />
      <ResumeDialog execution={execution} open={dialog === "resume"} onClose={() => setDialog(null)} />
    </div>
  );
}

function CancelDialog({
  execution,
  open,
  onClose,
  onDone,
}: {
  execution: Execution;
  open: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState("");
  const cancel = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/executions/{execution_id}/cancel", {
          params: { path: { execution_id: execution.id } },
          body: { reason: reason.trim() || null },
        }),
      ),
    onSuccess: () => {
      onDone();
      onClose();
    },
  });
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    cancel.mutate();
  };
  return (
    <Dialog open={open} title="Cancel this run?" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <p>
          Sources stop, in-flight messages get a grace period, unfinished ones are recorded as{" "}
          <em>cancelled</em> (a replay or resume can pick them up later).
        </p>
        <label>
          Reason (optional)
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
        </label>
        {cancel.isError && (
          <p className="form-error" role="alert">
            {cancel.error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Keep running
          </button>
          <button type="submit" className="danger" disabled={cancel.isPending}>
            {cancel.isPending ? "Cancelling…" : "Cancel run"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ReplayDialog({ execution, open, onClose }: { execution: Execution; open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const selection = useSelection();
  const routes = routesOf(execution);
  const [mode, setMode] = useState<ReplayMode>(selection.ids.size > 0 ? "ids" : "failed");
  const [route, setRoute] = useState("");
  const replay = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/executions/{execution_id}/replay", {
          params: { path: { execution_id: execution.id } },
          body: {
            mode,
            route: route || null,
            message_ids: mode === "ids" ? [...selection.ids] : [],
            priority: 0, // the server's default; the generated type requires it
          },
        }),
      ),
    onSuccess: (created) => {
      onClose();
      if (mode === "ids") selection.clear();
      void navigate(`/executions/${created.id}`);
    },
  });
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    replay.mutate();
  };
  return (
    <Dialog open={open} title="Replay messages as a new run" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <p className="muted">
          The replay runs on this execution&apos;s config snapshot, not the current config version.
        </p>
        <fieldset>
          <legend>Which messages</legend>
          {MODES.map((option) => (
            <label key={option.mode} className="radio">
              <input
                type="radio"
                name="mode"
                value={option.mode}
                checked={mode === option.mode}
                disabled={option.mode === "ids" && selection.ids.size === 0}
                onChange={() => setMode(option.mode)}
              />
              <span>
                {option.label}
                {option.mode === "ids" && ` (${selection.ids.size} selected)`}
                <span className="muted small block">{option.help}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <label>
          Only at route
          <select value={route} onChange={(e) => setRoute(e.target.value)}>
            <option value="">any route</option>
            {routes.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {replay.isError && (
          <p className="form-error" role="alert">
            {replay.error.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={replay.isPending}>
            {replay.isPending ? "Starting…" : "Start replay"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ResumeDialog({ execution, open, onClose }: { execution: Execution; open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const [labelText, setLabelText] = useState("");
  const labels = parseLabels(labelText);
  const resume = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/executions/{execution_id}/resume", {
          params: { path: { execution_id: execution.id } },
          body: { labels: labels.labels },
        }),
      ),
    onSuccess: (created) => {
      onClose();
      void navigate(`/executions/${created.id}`);
    },
  });
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (labels.error === null) resume.mutate();
  };
  // 409 conflict: it was resumed already; the problem names that run.
  const resumedBy =
    resume.error instanceof ApiError ? asText(resume.error.problem?.["resumed_by"]) || null : null;
  return (
    <Dialog open={open} title="Resume this run" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <p>
          A new run on this run&apos;s config snapshot does exactly the unfinished work: what the source had not
          produced yet and every message that had not settled. What settled here is not done again.
        </p>
        <label>
          Labels <span className="muted small">key=value, comma or line separated</span>
          <input value={labelText} onChange={(e) => setLabelText(e.target.value)} placeholder="why=after-crash" />
        </label>
        {labels.error && <p className="form-error">{labels.error}</p>}
        {resume.isError && (
          <div className="form-error" role="alert">
            <p>{resume.error.message}</p>
            {resumedBy && (
              <p>
                <Link to={`/executions/${resumedBy}`} onClick={onClose}>
                  Open the run that resumed it
                </Link>
              </p>
            )}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={resume.isPending}>
            {resume.isPending ? "Starting…" : "Start resume"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
