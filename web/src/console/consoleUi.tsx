import { useTranslation } from 'react-i18next';
import { ApiError } from '../api.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

/**
 * An error in words. The issue 6 codes are translated by the console's catalogue
 * (console.errors.CODE); any other code by the main catalogue, as everywhere else.
 */
export function ConsoleError({ error, id }: { error: unknown; id?: string }) {
  const { t } = useTranslation();
  if (!error) return null;
  if (error instanceof ApiError) {
    const own = t(`console.errors.${error.code}`, { defaultValue: '' });
    if (own)
      return (
        <div className="alert alert-error" role="alert" id={id}>
          <p>{own}</p>
        </div>
      );
  }
  return <ErrorAlert error={error} {...(id ? { id } : {})} />;
}

/** An entity's roll-out state in words (the colour only repeats it). */
export function EntityStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const cls = status === 'live' ? 'badge-e01' : 'badge-e02';
  return <span className={`badge ${cls}`}>{t(`console.entityStatus.${status}`, status)}</span>;
}

/** An enrolment request's status in words. */
export function EnrolmentStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const cls = status === 'accepted' ? 'badge-e01' : 'badge-e02';
  return <span className={`badge ${cls}`}>{t(`console.requestStatus.${status}`, status)}</span>;
}
