import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode, type SyntheticEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import type { Catchup, PipelineConfig } from "../../api/types";
import { ErrorState, Loading } from "../../components/States";
import { ParamFields } from "../configs/ParamInput";
import { collectParams, paramFields, parseLabels } from "../configs/params";
import { useConfigs, useVersions } from "../configs/queries";
import { SCHEDULES_KEY } from "./queries";
import { draftToRequest, interval, newDraft, type ScheduleDraft } from "./trigger";

const CATCHUP: { value: Catchup; label: string }[] = [
  { value: "skip", label: "skip missed times (run one only while it is at most the grace late)" },
  { value: "once", label: "one catch-up run for everything missed" },
  { value: "all", label: "every missed time, oldest first (up to the limit)" },
];

/** /schedules/new?config=NAME&version=N — a schedule of a stored config. */
export function NewSchedulePage() {
  const [search, setSearch] = useSearchParams();
  const configName = search.get("config") ?? "";
  const configs = useConfigs(false);
  const versions = useVersions(configName);
  const newestFirst = [...(versions.data?.items ?? [])].sort((a, b) => b.version - a.version);
  const latest = newestFirst[0];
  const pickConfig = (name: string) => {
    const updated = new URLSearchParams(search);
    updated.set("config", name);
    updated.delete("version");
    setSearch(updated, { replace: true });
  };
  return (
    <section aria-labelledby="new-schedule-title">
      <div className="page-header">
        <h1 id="new-schedule-title">New schedule</h1>
      </div>
      <div className="card stack">
        <label>
          Config
          {configs.isError ? (
            <ErrorState error={configs.error} what="configs" retry={() => void configs.refetch()} />
          ) : (
            <select value={configName} onChange={(event) => pickConfig(event.target.value)} disabled={configs.isPending}>
              <option value="" disabled>
                {configs.isPending ? "loading…" : "choose a config"}
              </option>
              {configs.data?.items.map((config) => (
                <option key={config.name} value={config.name}>
                  {config.name}
                </option>
              ))}
            </select>
          )}
        </label>
        {configs.data?.items.length === 0 && (
          <p className="muted">
            No configs stored yet: <Link to="/configs/new">write one</Link> first.
          </p>
        )}
        {configName &&
          (versions.isPending ? (
            <Loading what={`config ${configName}`} />
          ) : versions.isError ? (
            <ErrorState error={versions.error} what={`config ${configName}`} retry={() => void versions.refetch()} />
          ) : latest ? (
            <ScheduleForm
              key={configName}
              versions={newestFirst}
              latest={latest}
              pinned={search.get("version") ? Number(search.get("version")) : null}
            />
          ) : (
            <ErrorState error={new Error("it has no versions")} what={`config ${configName}`} />
          ))}
      </div>
    </section>
  );
}

type DraftErrors = Partial<Record<keyof ScheduleDraft, string>>;

function ScheduleForm({
  versions,
  latest,
  pinned,
}: {
  /** Newest first. */
  versions: PipelineConfig[];
  latest: PipelineConfig;
  pinned: number | null;
}) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [draft, setDraft] = useState<ScheduleDraft>(() =>
    newDraft(latest.name, versions.some((v) => v.version === pinned) ? pinned : null),
  );
  // The params form follows the version that will run (the latest when not pinned).
  const config = versions.find((v) => v.version === draft.configVersion) ?? latest;
  const fields = paramFields(config.definition["params"]);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f.name, f.initial])),
  );
  const [labelText, setLabelText] = useState("");
  const [touched, setTouched] = useState(false);
  const { params, errors: paramErrors } = collectParams(fields, texts);
  const labels = parseLabels(labelText);
  const request = draftToRequest(draft);
  const draftErrors: DraftErrors = touched && !request.ok ? request.errors : {};
  const set = (patch: Partial<ScheduleDraft>) => setDraft({ ...draft, ...patch });

  const create = useMutation({
    mutationFn: () => {
      if (!request.ok) throw new Error("the form has errors");
      return unwrap(api.POST("/api/v1/schedules", { body: { ...request.body, params, labels: labels.labels } }));
    },
    onSuccess: (schedule) => {
      void client.invalidateQueries({ queryKey: SCHEDULES_KEY });
      void navigate(`/schedules/${encodeURIComponent(schedule.name)}`);
    },
  });
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setTouched(true);
    if (request.ok && Object.keys(paramErrors).length === 0 && labels.error === null) create.mutate();
  };
  const problem = create.error instanceof ApiError ? create.error.problem : null;
  const issues = (problem as { issues?: { path: string; message: string }[] } | null)?.issues;

  return (
    <form onSubmit={submit} className="stack schedule-form" noValidate aria-label="New schedule">
      <Field label="Name" error={draftErrors.name}>
        {(props) => (
          <input {...props} value={draft.name} placeholder="nightly-facts" onChange={(e) => set({ name: e.target.value.trim() })} />
        )}
      </Field>
      <label>
        Version
        <select
          value={draft.configVersion ?? ""}
          onChange={(e) => {
            const version = e.target.value ? Number(e.target.value) : null;
            const chosen = versions.find((v) => v.version === version) ?? latest;
            set({ configVersion: version });
            // Its declared params may differ: start from its defaults.
            setTexts(Object.fromEntries(paramFields(chosen.definition["params"]).map((f) => [f.name, f.initial])));
          }}
        >
          <option value="">the latest at each fire time (now v{latest.version})</option>
          {versions.map((v) => (
            <option key={v.id} value={v.version}>
              v{v.version} only
            </option>
          ))}
        </select>
      </label>
      <fieldset className="stack">
        <legend>When</legend>
        <label className="radio">
          <input type="radio" name="kind" checked={draft.kind === "cron"} onChange={() => set({ kind: "cron" })} />
          <span>On a cron expression</span>
        </label>
        <label className="radio">
          <input type="radio" name="kind" checked={draft.kind === "interval"} onChange={() => set({ kind: "interval" })} />
          <span>Every so many seconds</span>
        </label>
        {draft.kind === "cron" ? (
          <>
            <Field label="Cron expression" help="minute hour day month weekday, e.g. 0 2 * * * (6 fields: seconds first)" error={draftErrors.cron}>
              {(props) => (
                <input {...props} className="mono" value={draft.cron} placeholder="0 2 * * *" onChange={(e) => set({ cron: e.target.value })} />
              )}
            </Field>
            <Field label="Time zone" help="IANA name the expression is read in, e.g. Europe/Amsterdam">
              {(props) => <input {...props} value={draft.timezone} onChange={(e) => set({ timezone: e.target.value })} />}
            </Field>
          </>
        ) : (
          <Field
            label="Interval (seconds)"
            help={request.ok || !draftErrors.intervalSeconds ? describeInterval(draft.intervalSeconds) : undefined}
            error={draftErrors.intervalSeconds}
          >
            {(props) => (
              <input {...props} type="number" min={1} value={draft.intervalSeconds} onChange={(e) => set({ intervalSeconds: e.target.value })} />
            )}
          </Field>
        )}
      </fieldset>
      <fieldset className="stack">
        <legend>Params of each run</legend>
        <ParamFields
          fields={fields}
          texts={texts}
          errors={touched ? paramErrors : undefined}
          onTexts={setTexts}
          labelText={labelText}
          labelError={labels.error}
          onLabelText={setLabelText}
        />
      </fieldset>
      <details>
        <summary>Downtime and overlap</summary>
        <div className="stack">
          <label>
            After downtime
            <select value={draft.catchup} onChange={(e) => set({ catchup: e.target.value as Catchup })}>
              {CATCHUP.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </label>
          <Field label="Grace (seconds late a skipped time may still run)" error={draftErrors.misfireGraceSeconds}>
            {(props) => (
              <input {...props} type="number" min={1} value={draft.misfireGraceSeconds} onChange={(e) => set({ misfireGraceSeconds: e.target.value })} />
            )}
          </Field>
          <Field label="Catch-up limit (missed runs at most)" error={draftErrors.catchupLimit}>
            {(props) => (
              <input {...props} type="number" min={1} value={draft.catchupLimit} onChange={(e) => set({ catchupLimit: e.target.value })} />
            )}
          </Field>
          <Field label="Max active runs" help="empty: no limit; a fire time finding this many pending or running is skipped" error={draftErrors.maxActiveRuns}>
            {(props) => (
              <input {...props} type="number" min={1} value={draft.maxActiveRuns} onChange={(e) => set({ maxActiveRuns: e.target.value })} />
            )}
          </Field>
        </div>
      </details>
      <label>
        Description <span className="muted small">optional</span>
        <input value={draft.description} onChange={(e) => set({ description: e.target.value })} />
      </label>
      <label className="radio">
        <input type="checkbox" checked={draft.paused} onChange={(e) => set({ paused: e.target.checked })} />
        <span>Create it paused</span>
      </label>
      {create.isError && (
        <div className="form-error" role="alert">
          <p>{create.error.message}</p>
          {issues && (
            <ul>
              {issues.map((issue) => (
                <li key={issue.path}>
                  <code>{issue.path}</code>: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="dialog-actions">
        <Link className="button" to="/schedules">
          Cancel
        </Link>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create schedule"}
        </button>
      </div>
    </form>
  );
}

function describeInterval(text: string): string | undefined {
  const seconds = Number(text);
  return Number.isInteger(seconds) && seconds >= 1 ? `${interval(seconds)}, counted from the Unix epoch (an hourly one fires on the hour)` : undefined;
}

interface FieldProps {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/** A labelled input with its help or error text linked for screen readers. */
function Field({
  label,
  help,
  error,
  children,
}: {
  label: string;
  help?: string | undefined;
  error?: string | undefined;
  children: (props: FieldProps) => ReactNode;
}) {
  const id = `schedule-${label.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  const note = error ? `Expected ${error}.` : help;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": error ? true : undefined, "aria-describedby": note ? `${id}-help` : undefined })}
      {note && (
        <p id={`${id}-help`} className={error ? "form-error small" : "muted small"}>
          {note}
        </p>
      )}
    </div>
  );
}
