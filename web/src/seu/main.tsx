import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { initSeuI18n } from './i18n.ts';
import { SeuApp } from './SeuApp.tsx';
import './seu.css';

initSeuI18n();

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 60_000 } },
});

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from seu.html');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <SeuApp />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
