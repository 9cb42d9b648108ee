import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMe } from '../session.ts';
import type { SecondFactor } from '../signatures.ts';
import { ErrorAlert } from './ErrorAlert.tsx';

/**
 * A modal confirmation with the user's second factor: the TOTP code, or — for a user without TOTP
 * in demo mode — the password. A native <dialog> opened with showModal(): it keeps focus inside,
 * closes on Escape, and focus returns to the button that opened it.
 */
export function SecondFactorDialog({
  open,
  title,
  description,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  description: string;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm: (factor: SecondFactor) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { data: me } = useMe();
  const ref = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const opener = useRef<Element | null>(null);
  const [value, setValue] = useState('');
  const titleId = useId();
  const descId = useId();
  const fieldId = useId();
  const errorId = useId();
  const totp = me?.totpEnabled ?? true;

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      setValue('');
      d.showModal();
      input.current?.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);

  useEffect(() => {
    if (error) input.current?.focus();
  }, [error]);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      aria-describedby={descId}
      onClose={() => {
        // Back to the button that opened it, unless the page has moved focus on (to a result).
        const active = document.activeElement;
        const lost = !active || active === document.body || ref.current?.contains(active);
        if (lost && opener.current instanceof HTMLElement && opener.current.isConnected)
          opener.current.focus();
        onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim() || busy) return;
          onConfirm(totp ? { totp: value.trim() } : { password: value });
        }}
      >
        <h2 id={titleId}>{title}</h2>
        <p id={descId}>{description}</p>
        <div className="field">
          <label htmlFor={fieldId}>
            {totp ? t('signatures.dialog.totp') : t('signatures.dialog.password')}
          </label>
          <input
            ref={input}
            id={fieldId}
            type={totp ? 'text' : 'password'}
            inputMode={totp ? 'numeric' : undefined}
            autoComplete={totp ? 'one-time-code' : 'current-password'}
            value={value}
            required
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            onChange={(e) => setValue(e.target.value)}
          />
        </div>
        <ErrorAlert error={error} id={errorId} />
        {busy ? (
          <p role="status" className="loading">
            {t('signatures.dialog.busy')}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            {confirmLabel}
          </button>
          <button type="button" className="button" onClick={() => ref.current?.close()} disabled={busy}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
