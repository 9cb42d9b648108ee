import { useId } from 'react';
import { useTranslation } from 'react-i18next';

export type ControlProps = {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: true;
  required?: boolean;
};

/**
 * A labelled form control with an optional hint and error, both linked to the control with
 * aria-describedby. `children` renders the control with the props it is given.
 */
export function Field({
  label,
  hint,
  error,
  required,
  invalid,
  className,
  describedBy,
  children,
}: {
  label: string;
  hint?: string;
  error?: string | null;
  required?: boolean;
  /** Marks the control invalid when the error is shown elsewhere (a form-level alert in describedBy). */
  invalid?: boolean;
  className?: string;
  /** Ids of other elements that describe the control (e.g. a form-level error). */
  describedBy?: string;
  children: (props: ControlProps) => React.ReactNode;
}) {
  const { t } = useTranslation();
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : null, error ? errorId : null, describedBy ?? null]
    .filter(Boolean)
    .join(' ');
  const props: ControlProps = { id };
  if (described) props['aria-describedby'] = described;
  if (error || invalid) props['aria-invalid'] = true;
  if (required) props.required = true;
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>
        {label}
        {required ? <span className="required"> ({t('common.required')})</span> : null}
      </label>
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
      {children(props)}
    </div>
  );
}
