import { useId, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import {
  ENTITY_STATES,
  type EntityState,
  NO_ENTITY_COLOUR,
  STATE_COLOURS,
  stateColour,
} from './dashboardColours.ts';

type Position = number[];
type Geometry =
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };
export type MapFeature = {
  type: 'Feature';
  properties: { ine: string; name: string; status: EntityState | null };
  geometry: Geometry;
};
export type MapCollection = { type: 'FeatureCollection'; features: MapFeature[] };

const WIDTH = 640;

function polygons(g: Geometry): Position[][][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

/**
 * The shapes projected into an SVG box: an equirectangular projection centred on the bounding
 * box, longitudes scaled by cos(mean latitude) so that the province keeps its proportions (at 42°
 * N a degree of longitude is about 0.74 of a degree of latitude). No tiles, no network.
 */
export function projectFeatures(features: MapFeature[]): {
  width: number;
  height: number;
  paths: { ine: string; name: string; status: EntityState | null; d: string }[];
} {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const f of features)
    for (const poly of polygons(f.geometry))
      for (const ring of poly)
        for (const [x, y] of ring) {
          if (x! < minX) minX = x!;
          if (x! > maxX) maxX = x!;
          if (y! < minY) minY = y!;
          if (y! > maxY) maxY = y!;
        }
  if (!Number.isFinite(minX)) return { width: WIDTH, height: 1, paths: [] };
  const kx = Math.cos((((minY + maxY) / 2) * Math.PI) / 180);
  const scale = WIDTH / ((maxX - minX) * kx);
  const height = Math.ceil((maxY - minY) * scale);
  const px = (lon: number) => ((lon - minX) * kx * scale).toFixed(1);
  const py = (lat: number) => ((maxY - lat) * scale).toFixed(1);
  const paths = features.map((f) => {
    const d = polygons(f.geometry)
      .flatMap((poly) => poly.map((ring) => `M${ring.map(([x, y]) => `${px(x!)} ${py(y!)}`).join('L')}Z`))
      .join('');
    return { ine: f.properties.ine, name: f.properties.name, status: f.properties.status, d };
  });
  return { width: WIDTH, height, paths };
}

/**
 * The province's municipalities coloured by their entity's state, with a legend that uses the
 * same colour table. Each shape carries its INE code and state (data-ine, data-status) and its
 * name and state as a tooltip; the counts are in the tables of the page, and the CSV.
 */
export function ProvinceMap({
  collection,
  counts,
}: {
  collection: MapCollection;
  counts: Record<EntityState, number>;
}) {
  const { t } = useTranslation();
  const titleId = useId();
  const descId = useId();
  const { width, height, paths } = useMemo(() => projectFeatures(collection.features), [collection]);
  const stateName = (s: EntityState | null) => (s ? t(`dashboard.state.${s}`) : t('dashboard.map.noEntity'));
  const withoutEntity = paths.some((p) => p.status === null);
  return (
    <figure className="province-map" style={{ margin: 0 }}>
      <svg
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        style={{ maxWidth: `${width}px`, height: 'auto', display: 'block' }}
        data-municipalities={paths.length}
      >
        <title id={titleId}>{t('dashboard.map.title', { count: paths.length })}</title>
        <desc id={descId}>
          {t('dashboard.map.desc', {
            summary: ENTITY_STATES.map((s) => `${stateName(s)}: ${counts[s]}`).join(', '),
          })}
        </desc>
        <g stroke="#3d434b" strokeWidth={0.4} strokeLinejoin="round" fillRule="evenodd">
          {paths.map((p) => (
            <path
              key={p.ine}
              d={p.d}
              data-ine={p.ine}
              data-status={p.status ?? 'none'}
              fill={stateColour(p.status)}
            >
              <title>{`${p.name}: ${stateName(p.status)}`}</title>
            </path>
          ))}
        </g>
      </svg>
      <figcaption>
        <ul
          className="map-legend"
          aria-label={t('dashboard.map.legend')}
          style={{ listStyle: 'none', padding: 0, display: 'flex', flexWrap: 'wrap', gap: '0.5rem 1.25rem' }}
        >
          {ENTITY_STATES.map((s) => (
            <li key={s} data-status={s} style={{ display: 'flex', alignItems: 'center', gap: '0.4rem' }}>
              <Swatch colour={STATE_COLOURS[s]} />
              <span>
                {stateName(s)} ({counts[s]})
              </span>
            </li>
          ))}
          {withoutEntity ? (
            <li data-status="none" style={{ display: 'flex', alignItems: 'center', gap: '0.4rem' }}>
              <Swatch colour={NO_ENTITY_COLOUR} />
              <span>{t('dashboard.map.noEntity')}</span>
            </li>
          ) : null}
        </ul>
        <p className="muted">{t('dashboard.map.attribution')}</p>
      </figcaption>
    </figure>
  );
}

/** A state's colour as a small square (decorative: the state's name is next to it). */
export function Swatch({ colour }: { colour: string }) {
  return (
    <svg width="16" height="16" aria-hidden="true" focusable="false" className="swatch">
      <rect x="0.5" y="0.5" width="15" height="15" fill={colour} stroke="#3d434b" />
    </svg>
  );
}
