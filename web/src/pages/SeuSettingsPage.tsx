import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, entityPath } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatDateTime } from '../format.ts';
import { rolesIn, useMe } from '../session.ts';
import type { SeuSettings, SeuSettingsView } from '../staffSeu.ts';

/** The form's fields, as text; a section left empty is not published (null). */
const FIELDS = [
  'contact.address',
  'contact.postalCode',
  'contact.town',
  'contact.phone',
  'contact.email',
  'contact.web',
  'creationAct.reference',
  'creationAct.date',
  'creationAct.url',
  'genericRequest.maxTermMonths',
  'genericRequest.termBasis',
  'genericRequest.silence',
  'genericRequest.silenceBasis',
  'accessibility.status',
  'accessibility.statementDate',
  'accessibility.reviewedOn',
  'accessibility.nonAccessibleContent',
  'accessibility.complaintsEmail',
  'accessibility.complaintsPhone',
  'accessibility.complaintsUrl',
  'privacy.dpoName',
  'privacy.dpoEmail',
  'privacy.purposes',
  'privacy.legalBasis',
  'privacy.retention',
  'privacy.rightsChannel',
] as const;
type FieldName = (typeof FIELDS)[number];
type Values = Record<FieldName, string>;
type Section = 'contact' | 'creationAct' | 'genericRequest' | 'accessibility' | 'privacy';
const SECTIONS: Section[] = ['contact', 'creationAct', 'genericRequest', 'accessibility', 'privacy'];
/** Fields a section cannot be published without. */
const REQUIRED: Record<Section, FieldName[]> = {
  contact: [],
  creationAct: ['creationAct.reference', 'creationAct.date'],
  genericRequest: ['genericRequest.maxTermMonths', 'genericRequest.silence'],
  accessibility: ['accessibility.status', 'accessibility.statementDate', 'accessibility.complaintsEmail'],
  privacy: ['privacy.dpoEmail', 'privacy.purposes', 'privacy.rightsChannel'],
};
const LONG = new Set<FieldName>([
  'accessibility.nonAccessibleContent',
  'privacy.purposes',
  'privacy.legalBasis',
  'privacy.retention',
  'privacy.rightsChannel',
]);
const DATES = new Set<FieldName>([
  'creationAct.date',
  'accessibility.statementDate',
  'accessibility.reviewedOn',
]);
const CHOICES: Partial<Record<FieldName, string[]>> = {
  'genericRequest.silence': ['estimatory', 'dismissive'],
  'accessibility.status': ['full', 'partial', 'non_compliant'],
};

function toValues(s: SeuSettings): Values {
  const v = Object.fromEntries(FIELDS.map((f) => [f, ''])) as Values;
  for (const f of FIELDS) {
    const [section, key] = f.split('.') as [Section, string];
    const value = (s[section] as Record<string, unknown> | null)?.[key];
    if (Array.isArray(value)) v[f] = value.join('\n');
    else if (value !== null && value !== undefined) v[f] = String(value);
  }
  return v;
}

function fromValues(v: Values): SeuSettings {
  const out: Record<string, Record<string, unknown> | null> = {};
  for (const section of SECTIONS) {
    const fields = FIELDS.filter((f) => f.startsWith(`${section}.`));
    if (fields.every((f) => !v[f].trim())) {
      out[section] = null;
      continue;
    }
    const o: Record<string, unknown> = {};
    for (const f of fields) {
      const key = f.split('.')[1] as string;
      const text = v[f].trim();
      if (f === 'privacy.purposes')
        o[key] = text
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
      else if (f === 'genericRequest.maxTermMonths') o[key] = text ? Number(text) : null;
      else o[key] = text || null;
    }
    out[section] = o;
  }
  return out as SeuSettings;
}

/**
 * What the entity's seu electrònica publishes (RD 203/2021 art. 11; RD 1112/2018; GDPR art. 13):
 * contact, the act that created it, the generic request's term and silence, the accessibility
 * statement and the privacy notice. Administrators only.
 */
export function SeuSettingsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const isAdmin = rolesIn(me, slug).includes('admin');
  const queryClient = useQueryClient();
  const base = useId();
  const key = ['seu-settings', slug];
  const settings = useQuery({
    queryKey: key,
    queryFn: () => api<SeuSettingsView>(`${entityPath(slug)}/seu-settings`),
    enabled: isAdmin,
  });
  const [values, setValues] = useState<Values | null>(null);
  const [missing, setMissing] = useState<FieldName[]>([]);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (settings.data && values === null) setValues(toValues(settings.data));
  }, [settings.data, values]);
  const save = useMutation({
    mutationFn: (body: SeuSettings) =>
      api<SeuSettingsView>(`${entityPath(slug)}/seu-settings`, { method: 'PUT', json: body }),
    onMutate: () => setSaved(false),
    onSuccess: (view) => {
      setSaved(true);
      queryClient.setQueryData(key, view);
      setValues(toValues(view));
    },
  });
  const errorId = `${base}-error`;

  function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!values) return;
    const next: FieldName[] = [];
    for (const section of SECTIONS) {
      const fields = FIELDS.filter((f) => f.startsWith(`${section}.`));
      if (fields.some((f) => values[f].trim()))
        next.push(...REQUIRED[section].filter((f) => !values[f].trim()));
    }
    setMissing(next);
    if (next.length > 0) {
      document.querySelector<HTMLElement>(`[data-field="${next[0]}"]`)?.focus();
      return;
    }
    save.mutate(fromValues(values));
  }

  return (
    <>
      <PageTitle title={t('seuSettings.title')}>{t('seuSettings.title')}</PageTitle>
      <p className="lead">{t('seuSettings.intro')}</p>
      {!isAdmin ? <p className="muted">{t('seuSettings.adminOnly')}</p> : null}
      {settings.isPending && isAdmin ? <Loading /> : null}
      <ErrorAlert error={settings.error} />
      {values ? (
        <form
          className="form"
          noValidate
          onSubmit={submit}
          aria-describedby={save.error ? errorId : undefined}
        >
          <p role="status" className="status-message">
            {saved ? t('seuSettings.saved') : ''}
          </p>
          {settings.data?.updatedAt ? (
            <p className="muted">
              {t('seuSettings.updatedAt', { at: formatDateTime(settings.data.updatedAt, lang) })}
            </p>
          ) : null}
          <ErrorAlert error={save.error} id={errorId} />
          {SECTIONS.map((section) => (
            <fieldset key={section} className="card">
              <legend>{t(`seuSettings.section.${section}`)}</legend>
              <p className="hint">{t(`seuSettings.sectionHint.${section}`)}</p>
              {FIELDS.filter((f) => f.startsWith(`${section}.`)).map((f) => {
                const choices = CHOICES[f];
                const required = REQUIRED[section].includes(f);
                const fieldKey = f.replace('.', '_');
                const label = t(`seuSettings.field.${fieldKey}`);
                const error = missing.includes(f) ? t('seuSettings.requiredInSection') : null;
                const set = (v: string) => setValues((old) => (old ? { ...old, [f]: v } : old));
                return (
                  <Field
                    key={f}
                    label={required ? `${label} (${t('seuSettings.neededMark')})` : label}
                    hint={t(`seuSettings.hint.${fieldKey}`, { defaultValue: '' }) || undefined}
                    error={error}
                  >
                    {(p) =>
                      choices ? (
                        <select {...p} data-field={f} value={values[f]} onChange={(e) => set(e.target.value)}>
                          <option value="">{t('seuSettings.choose')}</option>
                          {choices.map((c) => (
                            <option key={c} value={c}>
                              {t(`seuSettings.choice.${c}`)}
                            </option>
                          ))}
                        </select>
                      ) : LONG.has(f) ? (
                        <textarea
                          {...p}
                          data-field={f}
                          rows={3}
                          value={values[f]}
                          onChange={(e) => set(e.target.value)}
                        />
                      ) : (
                        <input
                          {...p}
                          data-field={f}
                          type={
                            DATES.has(f)
                              ? 'date'
                              : f === 'genericRequest.maxTermMonths'
                                ? 'number'
                                : f.endsWith('mail') || f.endsWith('Email')
                                  ? 'email'
                                  : 'text'
                          }
                          {...(f === 'genericRequest.maxTermMonths' ? { min: 1, max: 6 } : {})}
                          value={values[f]}
                          onChange={(e) => set(e.target.value)}
                        />
                      )
                    }
                  </Field>
                );
              })}
            </fieldset>
          ))}
          <p className="hint">{t('seuSettings.requiredNote')}</p>
          <button type="submit" className="button primary" disabled={save.isPending}>
            {save.isPending ? t('common.saving') : t('seuSettings.submit')}
          </button>
        </form>
      ) : null}
    </>
  );
}
