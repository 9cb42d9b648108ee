import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { formatCivilDate } from '../format.ts';
import { ENTITY_STATES, type EntityState, STATE_COLOURS } from './dashboardColours.ts';
import { Swatch } from './ProvinceMap.tsx';

export type ProgressPoint = { date: string; byState: Record<EntityState, number> };

/** The states drawn: every one past `listed` (listed entities are most of the province and would flatten the rest). */
const DRAWN = ENTITY_STATES.filter((s) => s !== 'listed');

const W = 640;
const H = 260;
const M = { top: 12, right: 16, bottom: 36, left: 44 };

/** A round axis maximum (1, 2, 5 × 10^n) at or above n. */
function niceMax(n: number): number {
  if (n <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/**
 * The roll-out day by day: the entities past `listed`, stacked by state (areas in the states'
 * colours, the roll-out's order from the bottom). Drawn by hand in SVG; an image with a title and
 * a description for assistive technology, and the same figures in a table below it.
 */
export function ProgressChart({ points }: { points: ProgressPoint[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? 'ca';
  const titleId = useId();
  const descId = useId();
  const last = points.at(-1);
  const first = points[0];
  const totals = points.map((p) => DRAWN.reduce((n, s) => n + p.byState[s], 0));
  const max = niceMax(Math.max(0, ...totals));
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const x = (i: number) => M.left + (points.length <= 1 ? iw / 2 : (i * iw) / (points.length - 1));
  const y = (v: number) => M.top + ih - (v * ih) / max;
  // Cumulative bands: band k runs from the sum of the states below it to that plus its own.
  const bands = DRAWN.map((s, k) => {
    const lower = points.map((p) => DRAWN.slice(0, k).reduce((n, b) => n + p.byState[b], 0));
    const upper = points.map((p, i) => lower[i]! + p.byState[s]);
    const top = upper.map((v, i) => `${x(i).toFixed(1)} ${y(v).toFixed(1)}`);
    const bottom = lower.map((v, i) => `${x(i).toFixed(1)} ${y(v).toFixed(1)}`).reverse();
    const d =
      points.length === 1
        ? `M${(x(0) - 8).toFixed(1)} ${y(upper[0]!).toFixed(1)}H${(x(0) + 8).toFixed(1)}V${y(lower[0]!).toFixed(1)}H${(x(0) - 8).toFixed(1)}Z`
        : `M${top.join('L')}L${bottom.join('L')}Z`;
    return { state: s, d };
  });
  const ticks = [0, max / 2, max];
  const summary = last ? DRAWN.map((s) => `${t(`dashboard.state.${s}`)}: ${last.byState[s]}`).join(', ') : '';
  return (
    <div className="progress-chart">
      <svg
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        style={{ maxWidth: `${W}px`, height: 'auto', display: 'block' }}
      >
        <title id={titleId}>{t('dashboard.progress.chartTitle')}</title>
        <desc id={descId}>
          {first && last
            ? t('dashboard.progress.chartDesc', {
                from: formatCivilDate(first.date, lang, 'medium'),
                to: formatCivilDate(last.date, lang, 'medium'),
                summary,
              })
            : ''}
        </desc>
        <g>
          {ticks.map((v) => (
            <g key={v}>
              <line x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} stroke="#d5d9df" />
              <text x={M.left - 6} y={y(v) + 4} textAnchor="end" fontSize="12" fill="#1b1f24">
                {v}
              </text>
            </g>
          ))}
        </g>
        {bands.map((b) => (
          <path
            key={b.state}
            d={b.d}
            fill={STATE_COLOURS[b.state]}
            stroke="#3d434b"
            strokeWidth={0.5}
            data-status={b.state}
          />
        ))}
        {first && last ? (
          <g fontSize="12" fill="#1b1f24">
            <text x={M.left} y={H - 12} textAnchor="start">
              {formatCivilDate(first.date, lang, 'medium')}
            </text>
            {points.length > 1 ? (
              <text x={W - M.right} y={H - 12} textAnchor="end">
                {formatCivilDate(last.date, lang, 'medium')}
              </text>
            ) : null}
          </g>
        ) : null}
      </svg>
      <ul
        aria-label={t('dashboard.progress.legend')}
        style={{ listStyle: 'none', padding: 0, display: 'flex', flexWrap: 'wrap', gap: '0.5rem 1.25rem' }}
      >
        {DRAWN.map((s) => (
          <li key={s} style={{ display: 'flex', alignItems: 'center', gap: '0.4rem' }}>
            <Swatch colour={STATE_COLOURS[s]} />
            <span>{t(`dashboard.state.${s}`)}</span>
          </li>
        ))}
      </ul>
      <details>
        <summary>{t('dashboard.progress.tableSummary')}</summary>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('dashboard.progress.chartTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('dashboard.progress.date')}</th>
                {ENTITY_STATES.map((s) => (
                  <th key={s} scope="col">
                    {t(`dashboard.state.${s}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr key={p.date}>
                  <th scope="row">{formatCivilDate(p.date, lang, 'medium')}</th>
                  {ENTITY_STATES.map((s) => (
                    <td key={s}>{p.byState[s]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
