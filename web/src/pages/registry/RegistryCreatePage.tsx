import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import {
  ApiError,
  api,
  type CreatedRegistryEntry,
  entityPath,
  type Party,
  type PartyKind,
  type RegistryChannel,
  type RegistryDirection,
} from '../../api.ts';
import { ErrorAlert } from '../../components/ErrorAlert.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { PartyPicker, partyName } from '../../components/PartyPicker.tsx';
import { errorMessage, formatBytes, madridLocalToIso } from '../../format.ts';
import {
  CHANNELS,
  ENTRY_LANGUAGES,
  MAX_ATTACHMENTS,
  ORIGIN_TIME_CHANNELS,
  useRegistryRights,
  useUnits,
} from './registryCommon.ts';

type PartyMode = 'none' | 'register' | 'new';
type NewParty = { identifier: string; kind: PartyKind; name: string; surname1: string; surname2: string };
const NO_PARTY: NewParty = { identifier: '', kind: 'person', name: '', surname1: '', surname2: '' };

type FieldName =
  | 'heading'
  | 'summary'
  | 'presentedAt'
  | 'identifier'
  | 'partyName'
  | 'registerParty'
  | 'files';
const ORDER: FieldName[] = [
  'heading',
  'summary',
  'presentedAt',
  'registerParty',
  'identifier',
  'partyName',
  'files',
];
/** Server codes that belong to one field, so the message sits next to it. */
const FIELD_OF: Record<string, FieldName> = { INVALID_IDENTIFIER: 'identifier', PAYLOAD_TOO_LARGE: 'files' };

/**
 * A new registry entry (assentament, LPACAP art. 16.3): direction, heading, summary, channel,
 * office, interested party (from the register or new), recipient, full text and attachments. The
 * number, the times and the SHA-256 of each attachment are the server's.
 */
export function RegistryCreatePage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const rights = useRegistryRights(slug);
  const units = useUnits(slug);
  const offices = (units.data ?? []).filter((u) => u.kind === 'office');
  const recipients = (units.data ?? []).filter((u) => u.kind !== 'office');

  const [direction, setDirection] = useState<RegistryDirection | ''>('');
  const [heading, setHeading] = useState('');
  const [summary, setSummary] = useState('');
  const [channel, setChannel] = useState<RegistryChannel>('in_person');
  const [presentedAt, setPresentedAt] = useState('');
  const [officeId, setOfficeId] = useState('');
  const [partyMode, setPartyMode] = useState<PartyMode>('none');
  const [picked, setPicked] = useState<Party | null>(null);
  const [newParty, setNewParty] = useState<NewParty>(NO_PARTY);
  const [sendingBody, setSendingBody] = useState('');
  const [recipientUnit, setRecipientUnit] = useState('');
  const [recipientPerson, setRecipientPerson] = useState('');
  const [text, setText] = useState('');
  const [language, setLanguage] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  // Catalogue keys, so a message follows a change of language.
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const refs: Record<FieldName, React.RefObject<HTMLElement | null>> = {
    heading: useRef<HTMLInputElement>(null),
    summary: useRef<HTMLTextAreaElement>(null),
    presentedAt: useRef<HTMLInputElement>(null),
    identifier: useRef<HTMLInputElement>(null),
    partyName: useRef<HTMLInputElement>(null),
    registerParty: useRef<HTMLParagraphElement>(null),
    files: useRef<HTMLInputElement>(null),
  };
  const errorId = 'registry-create-error';
  // The only direction the caller may use is chosen for them.
  const dir: RegistryDirection | '' =
    direction || (rights.directions.length === 1 ? (rights.directions[0] ?? '') : 'E');
  const originTime = ORIGIN_TIME_CHANNELS.includes(channel);
  const person = newParty.kind === 'person';

  const create = useMutation({
    mutationFn: () => {
      // Text fields first, then the `file` parts: the server checks the entry before reading files.
      const form = new FormData();
      form.append('direction', dir);
      form.append('heading', heading.trim());
      form.append('summary', summary.trim());
      form.append('channel', channel);
      if (originTime) form.append('presentedAt', madridLocalToIso(presentedAt) ?? presentedAt);
      if (officeId) form.append('officeId', officeId);
      if (partyMode === 'register' && picked) form.append('partyId', picked.id);
      if (partyMode === 'new') {
        const p: Record<string, string> = {
          identifier: newParty.identifier.trim(),
          kind: newParty.kind,
          name: newParty.name.trim(),
        };
        if (person && newParty.surname1.trim()) p.surname1 = newParty.surname1.trim();
        if (person && newParty.surname2.trim()) p.surname2 = newParty.surname2.trim();
        form.append('party', JSON.stringify(p));
      }
      if (sendingBody.trim()) form.append('sendingBody', sendingBody.trim());
      if (recipientUnit) form.append('recipientUnit', recipientUnit);
      if (recipientPerson.trim()) form.append('recipientPerson', recipientPerson.trim());
      if (text.trim()) form.append('text', text);
      if (language) form.append('language', language);
      for (const f of files) form.append('file', f, f.name);
      return api<CreatedRegistryEntry>(`${entityPath(slug)}/registry`, { form });
    },
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: ['registry', slug] });
      navigate(`/e/${slug}/registry/${created.id}`, { state: { created } });
    },
    onError: (err) => {
      const field = err instanceof ApiError ? FIELD_OF[err.code] : undefined;
      if (field) refs[field].current?.focus();
    },
  });

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const next: Partial<Record<FieldName, string>> = {};
    if (!heading.trim()) next.heading = 'registryNew.headingRequired';
    if (!summary.trim()) next.summary = 'registryNew.summaryRequired';
    if (originTime && !madridLocalToIso(presentedAt)) next.presentedAt = 'registryNew.presentedAtRequired';
    if (partyMode === 'register' && !picked) next.registerParty = 'registryNew.pickParty';
    if (partyMode === 'new' && !newParty.identifier.trim()) next.identifier = 'register.identifierRequired';
    if (partyMode === 'new' && !newParty.name.trim()) next.partyName = 'register.nameRequired';
    if (files.length > MAX_ATTACHMENTS) next.files = 'registryNew.tooManyFiles';
    else if (files.some((f) => f.size === 0)) next.files = 'registryNew.emptyFile';
    setErrors(next);
    create.reset();
    const first = ORDER.find((k) => next[k]);
    if (first) {
      // After the render that shows the message (the register's message is not there before).
      requestAnimationFrame(() => refs[first].current?.focus());
      return;
    }
    create.mutate();
  }

  const serverField = create.error instanceof ApiError ? FIELD_OF[create.error.code] : undefined;
  const formError = serverField ? null : create.error;
  const errorFor = (f: FieldName): string | null => {
    const key = errors[f];
    if (key) return t(key, { max: MAX_ATTACHMENTS });
    return serverField === f ? errorMessage(t, create.error) : null;
  };
  const setP = (k: keyof NewParty) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setNewParty((p) => ({ ...p, [k]: e.target.value }));

  if (rights.directions.length === 0) {
    return (
      <>
        <p className="breadcrumb">
          <Link to={`/e/${slug}/registry`}>{t('registry.title')}</Link>
        </p>
        <PageTitle title={t('registryNew.title')}>{t('registryNew.title')}</PageTitle>
        <p>{t('registryNew.notAllowed')}</p>
      </>
    );
  }

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/e/${slug}/registry`}>{t('registry.title')}</Link>
      </p>
      <PageTitle title={t('registryNew.title')}>{t('registryNew.title')}</PageTitle>
      <p className="lead">{t('registryNew.intro')}</p>
      <form
        className="card form"
        noValidate
        onSubmit={submit}
        aria-describedby={formError ? errorId : undefined}
      >
        <ErrorAlert error={formError} id={errorId} />
        <ErrorAlert error={units.error} />
        <fieldset className="radio-group inline">
          <legend>{t('registry.direction')}</legend>
          {rights.directions.map((d) => (
            <div className="radio" key={d}>
              <input
                type="radio"
                id={`direction-${d}`}
                name="direction"
                value={d}
                checked={dir === d}
                onChange={() => setDirection(d)}
              />
              <label htmlFor={`direction-${d}`}>{t(`registry.dir.${d}`)}</label>
            </div>
          ))}
        </fieldset>
        <Field
          label={t('registry.heading')}
          hint={t('registryNew.headingHint')}
          required
          error={errorFor('heading')}
        >
          {(p) => (
            <input
              {...p}
              ref={refs.heading as React.RefObject<HTMLInputElement>}
              name="heading"
              maxLength={500}
              value={heading}
              onChange={(e) => setHeading(e.target.value)}
            />
          )}
        </Field>
        <Field
          label={t('registry.summary')}
          hint={t('registryNew.summaryHint')}
          required
          error={errorFor('summary')}
        >
          {(p) => (
            <textarea
              {...p}
              ref={refs.summary as React.RefObject<HTMLTextAreaElement>}
              name="summary"
              rows={3}
              maxLength={4000}
              value={summary}
              onChange={(e) => setSummary(e.target.value)}
            />
          )}
        </Field>
        <div className="grid-2">
          <Field label={t('registry.channel')}>
            {(p) => (
              <select
                {...p}
                name="channel"
                value={channel}
                onChange={(e) => setChannel(e.target.value as RegistryChannel)}
              >
                {CHANNELS.map((c) => (
                  <option key={c} value={c}>
                    {t(`registry.channelName.${c}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('registry.office')}>
            {(p) => (
              <select {...p} name="officeId" value={officeId} onChange={(e) => setOfficeId(e.target.value)}>
                <option value="">{t('registryNew.noOffice')}</option>
                {offices.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                    {u.dir3 ? ` (${u.dir3})` : ''}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        {originTime ? (
          <Field
            label={t('registry.presentedAt')}
            hint={t('registryNew.presentedAtHint')}
            required
            error={errorFor('presentedAt')}
          >
            {(p) => (
              <input
                {...p}
                ref={refs.presentedAt as React.RefObject<HTMLInputElement>}
                type="datetime-local"
                name="presentedAt"
                value={presentedAt}
                onChange={(e) => setPresentedAt(e.target.value)}
              />
            )}
          </Field>
        ) : (
          <p className="hint">{t('registryNew.presentedNow')}</p>
        )}

        <fieldset className="parties-fieldset">
          <legend>{t('registry.party')}</legend>
          <div className="radio-group inline" role="radiogroup" aria-label={t('registryNew.partyMode')}>
            {(['none', 'register', 'new'] as const).map((m) => (
              <div className="radio" key={m}>
                <input
                  type="radio"
                  id={`party-mode-${m}`}
                  name="partyMode"
                  value={m}
                  checked={partyMode === m}
                  onChange={() => setPartyMode(m)}
                />
                <label htmlFor={`party-mode-${m}`}>{t(`registryNew.partyModes.${m}`)}</label>
              </div>
            ))}
          </div>
          {partyMode === 'register' ? (
            picked ? (
              <p>
                <strong>{partyName(picked)}</strong> <span className="muted">{picked.identifier}</span>{' '}
                <button
                  type="button"
                  className="button small secondary"
                  aria-label={`${t('common.remove')}: ${partyName(picked)}`}
                  onClick={() => setPicked(null)}
                >
                  {t('common.remove')}
                </button>
              </p>
            ) : (
              <>
                {errors.registerParty ? (
                  <p
                    className="field-error"
                    ref={refs.registerParty as React.RefObject<HTMLParagraphElement>}
                    tabIndex={-1}
                  >
                    {t(errors.registerParty)}
                  </p>
                ) : null}
                <PartyPicker
                  slug={slug}
                  pickLabel={t('registry.choose')}
                  onPick={(p) => {
                    setPicked(p);
                    setErrors((e) => ({ ...e, registerParty: undefined }));
                  }}
                />
              </>
            )
          ) : null}
          {partyMode === 'new' ? (
            <>
              <p className="hint">{t('registryNew.newPartyHint')}</p>
              <Field
                label={t('party.identifier')}
                hint={t('register.identifierHint')}
                required
                error={errorFor('identifier')}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={refs.identifier as React.RefObject<HTMLInputElement>}
                    name="partyIdentifier"
                    autoCapitalize="characters"
                    spellCheck={false}
                    value={newParty.identifier}
                    onChange={setP('identifier')}
                  />
                )}
              </Field>
              <fieldset className="radio-group inline">
                <legend>{t('party.kind')}</legend>
                {(['person', 'organisation'] as const).map((k) => (
                  <div className="radio" key={k}>
                    <input
                      type="radio"
                      id={`new-party-kind-${k}`}
                      name="partyKind"
                      value={k}
                      checked={newParty.kind === k}
                      onChange={() => setNewParty((p) => ({ ...p, kind: k }))}
                    />
                    <label htmlFor={`new-party-kind-${k}`}>{t(`partyKind.${k}`)}</label>
                  </div>
                ))}
              </fieldset>
              <Field
                label={person ? t('party.givenName') : t('party.orgName')}
                required
                error={errorFor('partyName')}
              >
                {(p) => (
                  <input
                    {...p}
                    ref={refs.partyName as React.RefObject<HTMLInputElement>}
                    name="partyName"
                    maxLength={200}
                    value={newParty.name}
                    onChange={setP('name')}
                  />
                )}
              </Field>
              {person ? (
                <div className="grid-2">
                  <Field label={t('party.surname1')}>
                    {(p) => (
                      <input
                        {...p}
                        name="partySurname1"
                        maxLength={100}
                        value={newParty.surname1}
                        onChange={setP('surname1')}
                      />
                    )}
                  </Field>
                  <Field label={t('party.surname2')}>
                    {(p) => (
                      <input
                        {...p}
                        name="partySurname2"
                        maxLength={100}
                        value={newParty.surname2}
                        onChange={setP('surname2')}
                      />
                    )}
                  </Field>
                </div>
              ) : null}
            </>
          ) : null}
        </fieldset>

        <div className="grid-2">
          <Field label={t('registry.sendingBody')} hint={t('registryNew.sendingBodyHint')}>
            {(p) => (
              <input
                {...p}
                name="sendingBody"
                maxLength={300}
                value={sendingBody}
                onChange={(e) => setSendingBody(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('registry.recipientUnit')}>
            {(p) => (
              <select
                {...p}
                name="recipientUnit"
                value={recipientUnit}
                onChange={(e) => setRecipientUnit(e.target.value)}
              >
                <option value="">{t('registryNew.noRecipientUnit')}</option>
                {recipients.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div className="grid-2">
          <Field label={t('registry.recipientPerson')}>
            {(p) => (
              <input
                {...p}
                name="recipientPerson"
                maxLength={300}
                value={recipientPerson}
                onChange={(e) => setRecipientPerson(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('registry.language')} hint={t('registryNew.languageHint')}>
            {(p) => (
              <select {...p} name="language" value={language} onChange={(e) => setLanguage(e.target.value)}>
                <option value="">{t('registryNew.languageDefault')}</option>
                {ENTRY_LANGUAGES.map((l) => (
                  <option key={l} value={l}>
                    {t(`languageName.${l}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Field label={t('registry.text')} hint={t('registryNew.textHint')}>
          {(p) => (
            <textarea {...p} name="text" rows={6} value={text} onChange={(e) => setText(e.target.value)} />
          )}
        </Field>
        <Field
          label={t('registry.attachments')}
          hint={t('registryNew.filesHint', { max: MAX_ATTACHMENTS })}
          error={errorFor('files')}
        >
          {(p) => (
            <input
              {...p}
              ref={refs.files as React.RefObject<HTMLInputElement>}
              type="file"
              name="file"
              multiple
              onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
            />
          )}
        </Field>
        {files.length > 0 ? (
          <ul className="picked-list" aria-label={t('registryNew.chosenFiles')}>
            {files.map((f, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: two chosen files may share a name
              <li key={`${f.name}-${i}`}>
                <span>
                  {f.name} <span className="muted">{formatBytes(f.size, lang)}</span>
                </span>
              </li>
            ))}
          </ul>
        ) : null}
        <p className="hint">{t('registryNew.immutable')}</p>
        <div className="actions">
          <button type="submit" className="button primary" disabled={create.isPending}>
            {create.isPending ? t('registryNew.submitting') : t('registryNew.submit')}
          </button>
          <Link to={`/e/${slug}/registry`} className="button secondary">
            {t('common.cancel')}
          </Link>
        </div>
      </form>
    </>
  );
}
