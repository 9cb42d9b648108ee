import { useTranslation } from 'react-i18next';

/** The ENI state of a case file (E01 open, E02 closed), in words; the colour only repeats it. */
export function StateBadge({ state }: { state: string }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${state.toLowerCase()}`}>{t(`state.${state}`, state)}</span>;
}
