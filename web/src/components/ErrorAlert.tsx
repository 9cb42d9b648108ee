import { useTranslation } from 'react-i18next';
import { describeError } from '../format.ts';

/** An error in words, announced by screen readers. Give it an id to link it with aria-describedby. */
export function ErrorAlert({ error, id }: { error: unknown; id?: string }) {
  const { t } = useTranslation();
  if (!error) return null;
  const text = describeError(t, error);
  return (
    <div className="alert alert-error" role="alert" id={id}>
      <p lang={text.lang}>{text.message}</p>
      {text.detail ? (
        <p className="alert-detail">
          {t('errors.detail')}: <span lang="en">{text.detail}</span>
        </p>
      ) : null}
    </div>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="loading" role="status">
      {t('common.loading')}
    </p>
  );
}
