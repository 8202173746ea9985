import { useMutation } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import type { PipelineConfig } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { queuedText } from "../../lib/format";
import { ParamFields } from "./ParamInput";
import { collectParams, paramFields, parseLabels } from "./params";

/** Runs a config version; the form comes from its declared params. */
export function RunDialog({ config, open, onClose }: { config: PipelineConfig; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title={`Run ${config.name} v${config.version}`} onClose={onClose}>
      <RunForm key={config.id} config={config} onClose={onClose} />
    </Dialog>
  );
}

function RunForm({ config, onClose }: { config: PipelineConfig; onClose: () => void }) {
  const navigate = useNavigate();
  const fields = paramFields(config.definition["params"]);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, f.initial])),
  );
  const [labelText, setLabelText] = useState("");
  const [touched, setTouched] = useState(false);
  const { params, errors } = collectParams(fields, texts);
  const labels = parseLabels(labelText);
  const run = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/configs/{name}/run", {
          params: { path: { name: config.name } },
          body: { params, version: config.version, labels: labels.labels, source: "api", priority: 0 }, // priority: the default
        }),
      ),
    onSuccess: (execution) => {
      // Queued (202, pending): say so and stay; started: open the run.
      if (execution.status === "pending") return;
      onClose();
      void navigate(`/executions/${execution.id}`);
    },
  });
  const queued = run.data?.status === "pending" ? run.data : null;
  if (queued) {
    return (
      <div className="stack run-form">
        <p role="status" data-queued={queued.id}>
          {queuedText(queued.queue_position)}
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button
            type="button"
            className="primary"
            onClick={() => {
              onClose();
              void navigate(`/executions/${queued.id}`);
            }}
          >
            Open the run
          </button>
        </div>
      </div>
    );
  }
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setTouched(true);
    if (Object.keys(errors).length === 0 && labels.error === null) run.mutate();
  };
  const problemIssues = (run.error as { problem?: { issues?: { path: string; message: string }[] } } | null)?.problem
    ?.issues;
  return (
    <form onSubmit={submit} className="stack run-form" noValidate>
      <ParamFields
        fields={fields}
        texts={texts}
        errors={touched ? errors : undefined}
        onTexts={setTexts}
        labelText={labelText}
        labelError={labels.error}
        onLabelText={setLabelText}
      />
      {run.isError && (
        <div className="form-error" role="alert">
          <p>{run.error.message}</p>
          {problemIssues && (
            <ul>
              {problemIssues.map((issue) => (
                <li key={issue.path}>
                  <code>{issue.path}</code>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button type="submit" className="primary" disabled={run.isPending}>
          {run.isPending ? "Starting…" : "Start run"}
        </button>
      </div>
    </form>
  );
}
