import { Outlet } from 'react-router';

/** The Diputació's console (issue 6): operators and support technicians. Owned by the console UI work. */
export function ConsoleLayout() {
  return <Outlet />;
}
