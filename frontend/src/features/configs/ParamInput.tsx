import type { ParamField } from "./params";

/** One declared param as a form field (run dialog, schedule form). */
export function ParamInput({
  field,
  text,
  error,
  onChange,
}: {
  field: ParamField;
  text: string;
  error: string | undefined;
  onChange: (text: string) => void;
}) {
  const id = `param-${field.name}`;
  const help = `${id}-help`;
  const label = (
    <span>
      <code>{field.name}</code> <span className="muted small">{field.type}</span>
      {field.required && <span className="danger"> required</span>}
    </span>
  );
  const described = field.description || error ? help : undefined;
  let input;
  if (field.type === "boolean") {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={text === "true"}
        onChange={(e) => onChange(e.target.checked ? "true" : "false")}
        aria-describedby={described}
      />
    );
  } else if (field.type === "list" || field.type === "object") {
    input = (
      <textarea
        id={id}
        rows={2}
        className="mono"
        value={text}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
      />
    );
  } else {
    input = (
      <input
        id={id}
        type={field.type === "integer" || field.type === "number" ? "number" : "text"}
        step={field.type === "number" ? "any" : undefined}
        value={text}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        className={field.type === "path" ? "mono" : undefined}
      />
    );
  }
  return (
    <div className="field" data-param={field.name}>
      <label htmlFor={id}>{label}</label>
      {input}
      {(field.description || error) && (
        <p id={help} className={error ? "form-error small" : "muted small"}>
          {error ? `Expected ${error}.` : field.description}
        </p>
      )}
    </div>
  );
}

/** Every declared param of a config as form fields, then the labels input
 * (run dialog, schedule form). `errors` are shown once the form was submitted. */
export function ParamFields({
  fields,
  texts,
  errors,
  onTexts,
  labelText,
  labelError,
  onLabelText,
}: {
  fields: ParamField[];
  texts: Record<string, string>;
  errors: Record<string, string> | undefined;
  onTexts: (texts: Record<string, string>) => void;
  labelText: string;
  labelError: string | null;
  onLabelText: (text: string) => void;
}) {
  return (
    <>
      {fields.length === 0 ? (
        <p className="muted">This config declares no params.</p>
      ) : (
        fields.map((field) => (
          <ParamInput
            key={field.name}
            field={field}
            text={texts[field.name] ?? ""}
            error={errors?.[field.name]}
            onChange={(text) => onTexts({ ...texts, [field.name]: text })}
          />
        ))
      )}
      <label>
        Labels <span className="muted small">key=value, comma or line separated</span>
        <input value={labelText} onChange={(e) => onLabelText(e.target.value)} placeholder="team=data" />
      </label>
      {labelError && <p className="form-error">{labelError}</p>}
    </>
  );
}
