import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, entityPath } from '../api.ts';
import { ErrorAlert, Loading } from '../components/ErrorAlert.tsx';
import { Field } from '../components/Field.tsx';
import { MemberSelect, memberLabel, useMembers } from '../components/MemberSelect.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { formatCivilDate, madridToday } from '../format.ts';
import { rolesIn, useMe } from '../session.ts';

/** The kinds of position (càrrec) the API knows, in the order the page lists them. */
const KINDS = [
  'mayor',
  'deputy_mayor',
  'secretary',
  'secretary_intervenor',
  'intervenor',
  'treasurer',
  'councillor',
  'other',
] as const;
type Kind = (typeof KINDS)[number];

type Holder = {
  id: string;
  userId: string;
  username: string;
  name: string;
  validFrom: string;
  validTo: string | null;
  appointmentReference: string | null;
};
type Absence = { id: string; from: string; to: string; reason: string };
type Delegation = {
  id: string;
  areas: string[];
  powers: string;
  decreeReference: string;
  decreeDate: string;
  validFrom: string;
  validTo: string | null;
};
type Position = {
  id: string;
  kind: Kind;
  title: string;
  area: string | null;
  deputyOrder: number | null;
  substituteUserId: string | null;
  substitutePositionId: string | null;
  holders: Holder[];
  absences: Absence[];
  delegations: Delegation[];
  actingToday: { userId: string; name: string; bySubstitution: boolean; substituteFor?: string } | null;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The entity's positions (càrrecs): who holds each one and since when, absences (the substitute
 * signs "per substitució" meanwhile) and the powers delegated by the mayor's decrees. Everyone of
 * the entity reads; administrators keep it.
 */
export function PositionsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const { slug = '' } = useParams();
  const { data: me } = useMe();
  const isAdmin = rolesIn(me, slug).includes('admin');
  const list = useQuery({
    queryKey: ['positions', slug],
    queryFn: () => api<{ items: Position[] }>(`${entityPath(slug)}/positions`),
  });
  const items = list.data?.items ?? [];
  const members = useMembers(slug);
  const nameOf = (userId: string) => {
    const m = members.data?.find((x) => x.id === userId);
    if (m) return memberLabel(t, m);
    return members.data ? t('members.former') : '…';
  };
  const titleOf = (id: string | null) => items.find((p) => p.id === id)?.title ?? '';
  const range = (from: string, to: string | null) =>
    to
      ? t('positions.fromTo', {
          from: formatCivilDate(from, lang, 'medium'),
          to: formatCivilDate(to, lang, 'medium'),
        })
      : t('positions.fromOpen', { from: formatCivilDate(from, lang, 'medium') });

  return (
    <>
      <PageTitle title={t('positions.title')}>{t('positions.title')}</PageTitle>
      <p className="lead">{t('positions.intro')}</p>
      <section aria-labelledby="positions-list-heading">
        <h2 id="positions-list-heading">{t('positions.listHeading')}</h2>
        {list.isPending ? <Loading /> : null}
        <ErrorAlert error={list.error} />
        {list.data && items.length === 0 ? <p className="empty">{t('positions.none')}</p> : null}
        {items.map((p) => (
          <article key={p.id} className="card" aria-labelledby={`position-${p.id}`}>
            <h3 id={`position-${p.id}`}>
              {p.title}
              <span className="block muted">
                {t(`positions.kind.${p.kind}`)}
                {p.area ? ` · ${p.area}` : ''}
              </span>
            </h3>
            <p>
              <strong>{t('positions.actingToday')}: </strong>
              {p.actingToday
                ? p.actingToday.bySubstitution
                  ? t('positions.bySubstitution', { name: p.actingToday.name })
                  : p.actingToday.name
                : t('positions.vacant')}
            </p>
            {p.substituteUserId || p.substitutePositionId ? (
              <p>
                <strong>{t('positions.substitute')}: </strong>
                {p.substitutePositionId
                  ? titleOf(p.substitutePositionId)
                  : p.substituteUserId
                    ? nameOf(p.substituteUserId)
                    : null}
              </p>
            ) : null}
            <h4>{t('positions.holders')}</h4>
            {p.holders.length === 0 ? (
              <p className="empty">{t('positions.noHolders')}</p>
            ) : (
              <ul>
                {p.holders.map((h) => (
                  <li key={h.id}>
                    {h.name || h.username} — {range(h.validFrom, h.validTo)}
                    {h.appointmentReference ? ` (${h.appointmentReference})` : ''}
                  </li>
                ))}
              </ul>
            )}
            {p.absences.length > 0 ? (
              <>
                <h4>{t('positions.absences')}</h4>
                <ul>
                  {p.absences.map((a) => (
                    <li key={a.id}>
                      {range(a.from, a.to)}: {a.reason}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            {p.delegations.length > 0 ? (
              <>
                <h4>{t('positions.delegations')}</h4>
                <ul>
                  {p.delegations.map((d) => (
                    <li key={d.id}>
                      {d.areas.join(', ')}: {d.powers}{' '}
                      <span className="muted">
                        (
                        {t('positions.byDecree', {
                          reference: d.decreeReference,
                          date: formatCivilDate(d.decreeDate, lang, 'medium'),
                        })}
                        ; {range(d.validFrom, d.validTo)})
                      </span>
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </article>
        ))}
      </section>
      {isAdmin && me ? (
        <>
          <NewPosition slug={slug} positions={items} />
          {items.length > 0 ? (
            <>
              <NewHolder slug={slug} positions={items} myId={me.id} myName={me.name || me.username} />
              <NewAbsence slug={slug} positions={items} />
              <NewDelegation slug={slug} positions={items.filter((p) => p.kind !== 'mayor')} />
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}

/** A form that posts to the API and refreshes the list; `status` is announced after success. */
function usePost(slug: string) {
  const queryClient = useQueryClient();
  const [done, setDone] = useState('');
  const m = useMutation({
    mutationFn: (v: { path: string; json: Record<string, unknown>; done: string }) =>
      api<Position>(`${entityPath(slug)}/positions${v.path}`, { json: v.json }).then(() => v.done),
    onMutate: () => setDone(''),
    onSuccess: async (message) => {
      setDone(message);
      await queryClient.invalidateQueries({ queryKey: ['positions', slug] });
    },
  });
  return { m, done };
}

function PositionSelect({
  positions,
  value,
  onChange,
}: {
  positions: Position[];
  value: string;
  onChange: (v: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <Field label={t('positions.position')} required>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
          {positions.map((x) => (
            <option key={x.id} value={x.id}>
              {x.title}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function NewPosition({ slug, positions }: { slug: string; positions: Position[] }) {
  const { t } = useTranslation();
  const { m, done } = usePost(slug);
  const [kind, setKind] = useState<Kind>('mayor');
  const [title, setTitle] = useState('');
  const [area, setArea] = useState('');
  const [deputyOrder, setDeputyOrder] = useState('1');
  const [substitute, setSubstitute] = useState('');
  const [substituteUser, setSubstituteUser] = useState('');
  const [missing, setMissing] = useState(false);
  const [bothSubstitutes, setBothSubstitutes] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);
  return (
    <section aria-labelledby="position-new-heading" className="card">
      <h2 id="position-new-heading">{t('positions.newHeading')}</h2>
      <p role="status" className="status-message">
        {done}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setMissing(!title.trim());
          setBothSubstitutes(!!substitute && !!substituteUser);
          if (!title.trim()) return titleRef.current?.focus();
          if (substitute && substituteUser) return;
          m.mutate({
            path: '',
            json: {
              kind,
              title: title.trim(),
              ...(area.trim() ? { area: area.trim() } : {}),
              ...(kind === 'deputy_mayor' ? { deputyOrder: Number(deputyOrder) } : {}),
              ...(substitute ? { substitutePositionId: substitute } : {}),
              ...(substituteUser ? { substituteUserId: substituteUser } : {}),
            },
            done: t('positions.created', { title: title.trim() }),
          });
        }}
      >
        <ErrorAlert error={m.error} />
        <div className="grid-2">
          <Field label={t('positions.kindLabel')} required>
            {(p) => (
              <select {...p} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`positions.kind.${k}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label={t('positions.titleLabel')}
            hint={t('positions.titleHint')}
            required
            error={missing ? t('positions.titleRequired') : null}
          >
            {(p) => (
              <input
                {...p}
                ref={titleRef}
                maxLength={200}
                value={title}
                onChange={(e) => setTitle(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('positions.area')}>
            {(p) => <input {...p} maxLength={200} value={area} onChange={(e) => setArea(e.target.value)} />}
          </Field>
          {kind === 'deputy_mayor' ? (
            <Field label={t('positions.deputyOrder')} required>
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={1}
                  max={20}
                  value={deputyOrder}
                  onChange={(e) => setDeputyOrder(e.target.value)}
                />
              )}
            </Field>
          ) : null}
          {positions.length > 0 ? (
            <Field label={t('positions.substitutePosition')} hint={t('positions.substituteHint')}>
              {(p) => (
                <select {...p} value={substitute} onChange={(e) => setSubstitute(e.target.value)}>
                  <option value="">{t('positions.noSubstitute')}</option>
                  {positions.map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.title}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          <MemberSelect
            slug={slug}
            label={t('positions.substituteUser')}
            hint={t('positions.substituteUserHint')}
            error={bothSubstitutes ? t('positions.substituteBoth') : null}
            value={substituteUser}
            onChange={setSubstituteUser}
            emptyLabel={t('positions.noSubstitute')}
          />
        </div>
        <button type="submit" className="button primary" disabled={m.isPending}>
          {m.isPending ? t('common.saving') : t('positions.create')}
        </button>
      </form>
    </section>
  );
}

function NewHolder({
  slug,
  positions,
  myId,
  myName,
}: {
  slug: string;
  positions: Position[];
  myId: string;
  myName: string;
}) {
  const { t } = useTranslation();
  const { m, done } = usePost(slug);
  const [position, setPosition] = useState(positions[0]?.id ?? '');
  const [who, setWho] = useState<'me' | 'other'>('me');
  const [userId, setUserId] = useState('');
  const [validFrom, setValidFrom] = useState(madridToday());
  const [reference, setReference] = useState('');
  const [errors, setErrors] = useState<{ userId?: string; validFrom?: string }>({});
  const chosen = positions.find((p) => p.id === position) ?? positions[0];
  return (
    <section aria-labelledby="holder-new-heading" className="card">
      <h2 id="holder-new-heading">{t('positions.holderHeading')}</h2>
      <p>{t('positions.holderIntro')}</p>
      <p role="status" className="status-message">
        {done}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const next: typeof errors = {};
          if (who === 'other' && !userId) next.userId = t('members.required');
          if (!DATE.test(validFrom)) next.validFrom = t('positions.dateRequired');
          setErrors(next);
          if (next.userId || next.validFrom || !chosen) return;
          m.mutate({
            path: `/${encodeURIComponent(chosen.id)}/holders`,
            json: {
              userId: who === 'me' ? myId : userId,
              validFrom,
              ...(reference.trim() ? { appointmentReference: reference.trim() } : {}),
            },
            done: t('positions.appointed', { title: chosen.title }),
          });
        }}
      >
        <ErrorAlert error={m.error} />
        <PositionSelect positions={positions} value={chosen?.id ?? ''} onChange={setPosition} />
        <fieldset className="radio-group">
          <legend>{t('positions.who')}</legend>
          <div className="radio">
            <input
              type="radio"
              id="holder-me"
              name="holder-who"
              checked={who === 'me'}
              onChange={() => setWho('me')}
            />
            <label htmlFor="holder-me">{t('positions.me', { name: myName })}</label>
          </div>
          <div className="radio">
            <input
              type="radio"
              id="holder-other"
              name="holder-who"
              checked={who === 'other'}
              onChange={() => setWho('other')}
            />
            <label htmlFor="holder-other">{t('positions.other')}</label>
          </div>
        </fieldset>
        {who === 'other' ? (
          <MemberSelect
            slug={slug}
            label={t('positions.member')}
            required
            error={errors.userId ?? null}
            value={userId}
            onChange={setUserId}
            filter={(x) => x.id !== myId}
          />
        ) : null}
        <div className="grid-2">
          <Field label={t('positions.validFrom')} required error={errors.validFrom ?? null}>
            {(p) => (
              <input {...p} type="date" value={validFrom} onChange={(e) => setValidFrom(e.target.value)} />
            )}
          </Field>
          <Field label={t('positions.appointmentReference')} hint={t('positions.appointmentReferenceHint')}>
            {(p) => (
              <input
                {...p}
                maxLength={200}
                value={reference}
                onChange={(e) => setReference(e.target.value)}
              />
            )}
          </Field>
        </div>
        <button type="submit" className="button primary" disabled={m.isPending}>
          {m.isPending ? t('common.saving') : t('positions.appoint')}
        </button>
      </form>
    </section>
  );
}

function NewAbsence({ slug, positions }: { slug: string; positions: Position[] }) {
  const { t } = useTranslation();
  const { m, done } = usePost(slug);
  const [position, setPosition] = useState(positions[0]?.id ?? '');
  const [from, setFrom] = useState(madridToday());
  const [to, setTo] = useState(madridToday());
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<{ dates?: string; reason?: string }>({});
  const chosen = positions.find((p) => p.id === position) ?? positions[0];
  return (
    <section aria-labelledby="absence-new-heading" className="card">
      <h2 id="absence-new-heading">{t('positions.absenceHeading')}</h2>
      <p role="status" className="status-message">
        {done}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const next: typeof errors = {};
          if (!DATE.test(from) || !DATE.test(to) || to < from) next.dates = t('positions.datesInvalid');
          if (!reason.trim()) next.reason = t('positions.reasonRequired');
          setErrors(next);
          if (next.dates || next.reason || !chosen) return;
          m.mutate({
            path: `/${encodeURIComponent(chosen.id)}/absences`,
            json: { from, to, reason: reason.trim() },
            done: t('positions.absenceRecorded', { title: chosen.title }),
          });
        }}
      >
        <ErrorAlert error={m.error} />
        <PositionSelect positions={positions} value={chosen?.id ?? ''} onChange={setPosition} />
        <div className="grid-2">
          <Field label={t('positions.from')} required error={errors.dates ?? null}>
            {(p) => <input {...p} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />}
          </Field>
          <Field label={t('positions.to')} required>
            {(p) => <input {...p} type="date" value={to} onChange={(e) => setTo(e.target.value)} />}
          </Field>
        </div>
        <Field label={t('positions.reason')} required error={errors.reason ?? null}>
          {(p) => (
            <input {...p} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
          )}
        </Field>
        <button type="submit" className="button primary" disabled={m.isPending}>
          {m.isPending ? t('common.saving') : t('positions.recordAbsence')}
        </button>
      </form>
    </section>
  );
}

function NewDelegation({ slug, positions }: { slug: string; positions: Position[] }) {
  const { t } = useTranslation();
  const { m, done } = usePost(slug);
  const [position, setPosition] = useState(positions[0]?.id ?? '');
  const [areas, setAreas] = useState('');
  const [powers, setPowers] = useState('');
  const [reference, setReference] = useState('');
  const [decreeDate, setDecreeDate] = useState(madridToday());
  const [missing, setMissing] = useState(false);
  if (positions.length === 0) return null;
  const chosen = positions.find((p) => p.id === position) ?? positions[0];
  const areaList = areas
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return (
    <section aria-labelledby="delegation-new-heading" className="card">
      <h2 id="delegation-new-heading">{t('positions.delegationHeading')}</h2>
      <p role="status" className="status-message">
        {done}
      </p>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const bad = areaList.length === 0 || !powers.trim() || !reference.trim() || !DATE.test(decreeDate);
          setMissing(bad);
          if (bad || !chosen) return;
          m.mutate({
            path: `/${encodeURIComponent(chosen.id)}/delegations`,
            json: { areas: areaList, powers: powers.trim(), decreeReference: reference.trim(), decreeDate },
            done: t('positions.delegationRecorded', { title: chosen.title }),
          });
        }}
      >
        <ErrorAlert error={m.error} />
        {missing ? (
          <p className="field-error" role="alert">
            {t('positions.delegationMissing')}
          </p>
        ) : null}
        <PositionSelect positions={positions} value={chosen?.id ?? ''} onChange={setPosition} />
        <Field label={t('positions.areas')} hint={t('positions.areasHint')} required>
          {(p) => <input {...p} value={areas} onChange={(e) => setAreas(e.target.value)} />}
        </Field>
        <Field label={t('positions.powers')} required>
          {(p) => (
            <textarea {...p} maxLength={4000} value={powers} onChange={(e) => setPowers(e.target.value)} />
          )}
        </Field>
        <div className="grid-2">
          <Field label={t('positions.decreeReference')} required>
            {(p) => (
              <input
                {...p}
                maxLength={200}
                value={reference}
                onChange={(e) => setReference(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('positions.decreeDate')} required>
            {(p) => (
              <input {...p} type="date" value={decreeDate} onChange={(e) => setDecreeDate(e.target.value)} />
            )}
          </Field>
        </div>
        <button type="submit" className="button primary" disabled={m.isPending}>
          {m.isPending ? t('common.saving') : t('positions.recordDelegation')}
        </button>
      </form>
    </section>
  );
}
