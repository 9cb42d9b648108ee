import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, useNavigate } from 'react-router';
import { api } from '../api.ts';
import { ME_KEY } from '../queryClient.ts';
import { rolesIn, useEntities, useMe } from '../session.ts';
import { ErrorAlert } from './ErrorAlert.tsx';
import { LanguageSwitch } from './LanguageSwitch.tsx';

/** The frame of every page: skip link, header (entity, language, user), main landmark, footer. */
export function Shell({ entity, children }: { entity?: string; children: React.ReactNode }) {
  const { t } = useTranslation();
  const { data: me } = useMe();
  const isAdmin = entity ? rolesIn(me, entity).includes('admin') : false;
  return (
    <>
      <a className="skip-link" href="#main">
        {t('skipLink')}
      </a>
      <header className="site-header">
        <div className="header-inner">
          <Link to={entity ? `/e/${entity}/expedients` : '/'} className="brand">
            <span className="brand-mark" aria-hidden="true">
              L
            </span>
            {t('app.name')}
          </Link>
          {me && entity ? <EntitySwitcher current={entity} /> : null}
          <div className="header-tools">
            <LanguageSwitch />
            {me ? <UserMenu /> : null}
          </div>
        </div>
        {me && entity ? (
          <nav className="main-nav" aria-label={t('nav.label')}>
            <ul>
              <li>
                <NavLink to={`/e/${entity}/expedients`} end={false}>
                  {t('nav.expedients')}
                </NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/registry`}>{t('nav.registry')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/parties`}>{t('nav.parties')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/calendar`}>{t('nav.calendar')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/officials`}>{t('nav.officials')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/positions`}>{t('nav.positions')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/resolutions`}>{t('nav.resolutions')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/board`}>{t('nav.board')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/seu-incidents`}>{t('nav.incidents')}</NavLink>
              </li>
              <li>
                <NavLink to={`/e/${entity}/representations`}>{t('nav.representations')}</NavLink>
              </li>
              {isAdmin ? (
                <li>
                  <NavLink to={`/e/${entity}/seu-settings`}>{t('nav.seuSettings')}</NavLink>
                </li>
              ) : null}
              {isAdmin ? (
                <li>
                  <NavLink to={`/e/${entity}/support-access`}>{t('support.entity.nav')}</NavLink>
                </li>
              ) : null}
              <li>
                <NavLink to="/signatures">{t('nav.signatures')}</NavLink>
              </li>
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" tabIndex={-1} className="main">
        {children}
      </main>
      <footer className="site-footer">
        <p>{t('app.footer')}</p>
      </footer>
    </>
  );
}

function EntitySwitcher({ current }: { current: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { data: entities } = useEntities();
  const [choice, setChoice] = useState(current);
  const id = useId();
  useEffect(() => setChoice(current), [current]);
  if (!entities || entities.length === 0) return null;
  const currentEntity = entities.find((e) => e.slug === current);
  if (entities.length === 1) {
    return (
      <p className="entity-name">
        <span className="visually-hidden">{t('header.entity')}: </span>
        {currentEntity?.name ?? current}
      </p>
    );
  }
  return (
    <form
      className="entity-switcher"
      onSubmit={(e) => {
        e.preventDefault();
        if (choice !== current) navigate(`/e/${choice}/expedients`);
      }}
    >
      <label htmlFor={id}>{t('header.entity')}</label>
      <select id={id} value={choice} onChange={(e) => setChoice(e.target.value)}>
        {entities.map((e) => (
          <option key={e.id} value={e.slug}>
            {e.name}
          </option>
        ))}
      </select>
      <button type="submit" className="button small">
        {t('header.switchEntity')}
      </button>
    </form>
  );
}

function UserMenu() {
  const { t } = useTranslation();
  const { data: me } = useMe();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const logout = useMutation({
    mutationFn: () => api<void>('/session', { method: 'DELETE' }),
    onSuccess: () => {
      queryClient.clear();
      queryClient.setQueryData(ME_KEY, null);
      navigate('/login');
    },
  });

  // While open: a click outside closes the panel; Escape closes it and returns focus to the button.
  useEffect(() => {
    if (!open) return;
    function onDocClick(e: MouseEvent) {
      const target = e.target as Node;
      if (!panelRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    }
    function onKey(e: KeyboardEvent) {
      if (e.key !== 'Escape') return;
      setOpen(false);
      buttonRef.current?.focus();
    }
    document.addEventListener('click', onDocClick);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('click', onDocClick);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  if (!me) return null;
  const roles = me.memberships.flatMap((m) => m.roles.map((r) => `${m.entity.name}: ${t(`roles.${r}`, r)}`));
  return (
    <div className="user-menu">
      <button
        ref={buttonRef}
        type="button"
        className="user-button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="visually-hidden">{t('header.userMenu')}: </span>
        {me.name || me.username}
      </button>
      <div ref={panelRef} id={panelId} className="user-panel" hidden={!open}>
        <p className="user-panel-name">{me.name}</p>
        <p className="user-panel-username">{t('header.loggedInAs', { username: me.username })}</p>
        {roles.length > 0 ? (
          <ul className="user-panel-roles" aria-label={t('header.roles')}>
            {roles.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        ) : null}
        {me.platformRoles.some((r) => r === 'operator' || r === 'support') ? (
          <p>
            <Link to="/console" onClick={() => setOpen(false)}>
              {t('console.nav.open')}
            </Link>
          </p>
        ) : null}
        {!me.totpEnabled ? (
          <p>
            <Link to="/totp" onClick={() => setOpen(false)}>
              {t('header.enrolTotp')}
            </Link>
          </p>
        ) : null}
        <ErrorAlert error={logout.error} />
        <button
          type="button"
          className="button secondary"
          onClick={() => logout.mutate()}
          disabled={logout.isPending}
        >
          {t('header.logout')}
        </button>
      </div>
    </div>
  );
}
