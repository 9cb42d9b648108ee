import { QueryClientProvider } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { createBrowserRouter, Navigate, Outlet, useLocation, useParams } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { ConsoleEntityPage } from './console/ConsoleEntityPage.tsx';
import { ConsoleLayout } from './console/ConsoleLayout.tsx';
import { DashboardPage } from './console/DashboardPage.tsx';
import { EnrolmentInboxPage } from './console/EnrolmentInboxPage.tsx';
import { EnrolmentRequestPage } from './console/EnrolmentRequestPage.tsx';
import { InvitationPage } from './console/InvitationPage.tsx';
import { SupportGrantsConsolePage } from './console/SupportGrantsConsolePage.tsx';
import { WavesPage } from './console/WavesPage.tsx';
import { SupportAccessPage } from './pages/SupportAccessPage.tsx';
import { ErrorAlert, Loading } from './components/ErrorAlert.tsx';
import { PageTitle } from './components/PageTitle.tsx';
import { Shell } from './components/Shell.tsx';
import { ExpedientCreatePage } from './pages/ExpedientCreatePage.tsx';
import { ExpedientListPage } from './pages/ExpedientListPage.tsx';
import { CalendarPage } from './pages/CalendarPage.tsx';
import { ExpedientPage } from './pages/ExpedientPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { PartiesPage } from './pages/PartiesPage.tsx';
import { BoardPage } from './pages/board/BoardPage.tsx';
import { IncidentsPage } from './pages/board/IncidentsPage.tsx';
import { PositionsPage } from './pages/PositionsPage.tsx';
import { RepresentationsPage } from './pages/RepresentationsPage.tsx';
import { SeuSettingsPage } from './pages/SeuSettingsPage.tsx';
import { OfficialsPage } from './pages/registry/OfficialsPage.tsx';
import { RegistryBookPage } from './pages/registry/RegistryBookPage.tsx';
import { RegistryCreatePage } from './pages/registry/RegistryCreatePage.tsx';
import { RegistryEntryPage } from './pages/registry/RegistryEntryPage.tsx';
import { ResolutionsBookPage } from './pages/resolutions/ResolutionsBookPage.tsx';
import { DocumentSignaturesPage } from './pages/signatures/DocumentSignaturesPage.tsx';
import { SignatureInboxPage } from './pages/signatures/SignatureInboxPage.tsx';
import { TotpEnrolPage } from './pages/TotpEnrolPage.tsx';
import { VerifyPage } from './pages/VerifyPage.tsx';
import type { Entity } from './api.ts';
import { formatDateTime } from './format.ts';
import { queryClient } from './queryClient.ts';
import { rememberEntity, rememberedEntity, useEntities, useMe } from './session.ts';

/** Pages behind the session: no session → login; a user who must enrol TOTP → enrolment first. */
function RequireAuth({ enrolment = false }: { enrolment?: boolean }) {
  const { data: me, isPending, error } = useMe();
  const location = useLocation();
  if (isPending) return <Loading />;
  if (error) {
    return (
      <Shell>
        <ErrorAlert error={error} />
      </Shell>
    );
  }
  if (!me) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (me.mustEnrolTotp && !enrolment) return <Navigate to="/totp" replace />;
  return <Outlet />;
}

/** The start page: the entity last worked in, or the first one the user belongs to. */
function Home() {
  const { t } = useTranslation();
  const { data: entities, isPending, error } = useEntities();
  const { data: me } = useMe();
  if (isPending) return <Loading />;
  // Issue 6: the Diputació's operators and support technicians without an entity start at the console.
  const consoleUser = me?.platformRoles.some((r) => r === 'operator' || r === 'support');
  if (consoleUser && !error && entities?.length === 0) return <Navigate to="/console" replace />;
  if (error || !entities || entities.length === 0) {
    return (
      <Shell>
        <PageTitle title={t('home.title')}>{t('home.title')}</PageTitle>
        {error ? <ErrorAlert error={error} /> : <p>{t('home.noEntities')}</p>}
      </Shell>
    );
  }
  const remembered = rememberedEntity();
  const target = entities.find((e) => e.slug === remembered) ?? entities[0];
  return <Navigate to={`/e/${target?.slug}/expedients`} replace />;
}

/** One entity's pages. An entity the user does not belong to is a "not found". */
function EntityLayout() {
  const { t, i18n } = useTranslation();
  const { slug = '' } = useParams();
  const { data: entities, isPending, error } = useEntities();
  // Issue 6: a support technician also gets the entities where a grant of theirs is in force.
  const entity = entities?.find((e) => e.slug === slug) as
    | (Entity & { support?: { grantId: string; endsAt: string } })
    | undefined;
  useEffect(() => {
    if (entity) rememberEntity(entity.slug);
  }, [entity]);
  if (isPending) return <Loading />;
  if (error || !entity) {
    return (
      <Shell>
        <PageTitle title={t('notFound.title')}>{t('notFound.title')}</PageTitle>
        {error ? <ErrorAlert error={error} /> : <p>{t('notFound.entity')}</p>}
      </Shell>
    );
  }
  return (
    <Shell entity={entity.slug}>
      {entity.support ? (
        <p className="alert alert-info support-notice">
          {t('support.layout.notice', { date: formatDateTime(entity.support.endsAt, i18n.language) })}
        </p>
      ) : null}
      <Outlet />
    </Shell>
  );
}

function NotFound() {
  const { t } = useTranslation();
  return (
    <Shell>
      <PageTitle title={t('notFound.title')}>{t('notFound.title')}</PageTitle>
      <p>{t('notFound.page')}</p>
    </Shell>
  );
}

const router = createBrowserRouter(
  [
    { path: '/login', element: <LoginPage /> },
    // Public: anyone verifies a document by its CSV (LRJSP art. 42.b), with no session.
    { path: '/verify', element: <VerifyPage /> },
    // Issue 6: a new user's one-time invitation (set a password, enrol TOTP), with no session.
    { path: '/invitation/:token', element: <InvitationPage /> },
    {
      element: <RequireAuth enrolment />,
      children: [{ path: '/totp', element: <TotpEnrolPage /> }],
    },
    {
      element: <RequireAuth />,
      children: [
        { path: '/', element: <Home /> },
        { path: '/signatures', element: <SignatureInboxPage /> },
        // Issue 6: the Diputació's console (operators and support technicians; /console redirects here).
        {
          path: '/console',
          element: <ConsoleLayout />,
          children: [
            { index: true, element: <DashboardPage /> },
            { path: 'requests', element: <EnrolmentInboxPage /> },
            { path: 'requests/:id', element: <EnrolmentRequestPage /> },
            { path: 'waves', element: <WavesPage /> },
            { path: 'entities/:ref', element: <ConsoleEntityPage /> },
            { path: 'support', element: <SupportGrantsConsolePage /> },
          ],
        },
        {
          path: '/e/:slug',
          element: <EntityLayout />,
          children: [
            { index: true, element: <Navigate to="expedients" replace /> },
            { path: 'expedients', element: <ExpedientListPage /> },
            { path: 'expedients/new', element: <ExpedientCreatePage /> },
            { path: 'expedients/:id', element: <ExpedientPage /> },
            { path: 'parties', element: <PartiesPage /> },
            { path: 'registry', element: <RegistryBookPage /> },
            { path: 'registry/new', element: <RegistryCreatePage /> },
            { path: 'registry/:id', element: <RegistryEntryPage /> },
            { path: 'calendar', element: <CalendarPage /> },
            { path: 'officials', element: <OfficialsPage /> },
            { path: 'positions', element: <PositionsPage /> },
            { path: 'resolutions', element: <ResolutionsBookPage /> },
            { path: 'documents/:id', element: <DocumentSignaturesPage /> },
            { path: 'board', element: <BoardPage /> },
            { path: 'seu-incidents', element: <IncidentsPage /> },
            { path: 'representations', element: <RepresentationsPage /> },
            { path: 'seu-settings', element: <SeuSettingsPage /> },
            { path: 'support-access', element: <SupportAccessPage /> },
          ],
        },
      ],
    },
    { path: '*', element: <NotFound /> },
  ],
  { basename: '/app' },
);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
