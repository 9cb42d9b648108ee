/**
 * Makes the console map's boundaries (data/seed/lleida_municipis_map.geojson) from the shipped
 * ICGC file (data/seed/lleida_municipis.geojson; CC BY 4.0, attribution in data/seed/SOURCES.md):
 * a topology-preserving Douglas–Peucker simplification with a tolerance of TOLERANCE_M metres,
 * enough for a map a few hundred pixels wide (the province is ~180 km tall). Run once; the output
 * is committed:  node scripts/simplify-boundaries.ts
 *
 * Neighbouring municipalities share most of their border's vertices exactly in the source. Each
 * ring is cut into arcs at its junctions (where three municipalities meet, or where a border with
 * one neighbour ends), which stay where they are, so the corners of neighbouring shapes still
 * meet; each arc is simplified on its own, its ends kept, always in the same direction. Where the
 * two sides of a border had the same vertices, they get the same simplified line; elsewhere the
 * two lines stay within the tolerance of each other (under half a pixel on the console's map). A
 * ring that would fall below four points keeps its original vertices. Every feature keeps its
 * properties (INE code, name, comarca…); the 231 municipalities are all kept.
 */
import fs from 'node:fs';
import path from 'node:path';

export const TOLERANCE_M = 150;

type Pt = [number, number];
type Ring = Pt[];
type Geometry = { type: 'Polygon'; coordinates: Ring[] } | { type: 'MultiPolygon'; coordinates: Ring[][] };
type Feature = { type: 'Feature'; properties: Record<string, unknown>; geometry: Geometry };

const root = path.resolve(import.meta.dirname, '..');
const SOURCE = path.join(root, 'data/seed/lleida_municipis.geojson');
const TARGET = path.join(root, 'data/seed/lleida_municipis_map.geojson');

const key = (p: Pt) => `${p[0]},${p[1]}`;

/** Douglas–Peucker on an open polyline (ends kept), distances in metres around latitude lat0. */
function douglasPeucker(pts: Pt[], tol: number, lat0: number): Pt[] {
  if (pts.length <= 2) return pts;
  const kx = 111_320 * Math.cos((lat0 * Math.PI) / 180);
  const ky = 110_574;
  const xy = pts.map(([x, y]) => [x * kx, y * ky] as const);
  const keep = new Uint8Array(pts.length);
  keep[0] = 1;
  keep[pts.length - 1] = 1;
  const stack: [number, number][] = [[0, pts.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const [ax, ay] = xy[a]!;
    const [bx, by] = xy[b]!;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    let far = -1;
    let best = tol;
    for (let i = a + 1; i < b; i++) {
      const [px, py] = xy[i]!;
      let d: number;
      if (len2 === 0) d = Math.hypot(px - ax, py - ay);
      else {
        const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
        d = Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
      }
      if (d > best) {
        best = d;
        far = i;
      }
    }
    if (far >= 0) {
      keep[far] = 1;
      stack.push([a, far], [far, b]);
    }
  }
  return pts.filter((_, i) => keep[i]);
}

export function simplifyCollection(features: Feature[], tol = TOLERANCE_M): Feature[] {
  const rings: Ring[] = [];
  for (const f of features)
    for (const poly of f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates)
      for (const ring of poly) rings.push(ring.slice(0, -1)); // open: the closing vertex dropped
  let lat0 = 0;
  let n = 0;
  const owners = new Map<string, Set<number>>();
  rings.forEach((ring, r) => {
    for (const p of ring) {
      lat0 += p[1];
      n++;
      const k = key(p);
      const s = owners.get(k) ?? new Set<number>();
      s.add(r);
      owners.set(k, s);
    }
  });
  lat0 /= n;
  const sig = (p: Pt) => [...owners.get(key(p))!].sort((a, b) => a - b).join(' ');
  const simplifyArc = (arc: Pt[]): Pt[] => {
    // Always the same direction for the same arc, whichever ring it is read from.
    const reversed =
      key(arc[0]!) > key(arc.at(-1)!) ||
      (key(arc[0]!) === key(arc.at(-1)!) && key(arc[1]!) > key(arc.at(-2)!));
    const canonical = reversed ? [...arc].reverse() : arc;
    const out = douglasPeucker(canonical, tol, lat0);
    return reversed ? out.reverse() : out;
  };
  const simplified = rings.map((ring) => {
    const m = ring.length;
    // Junctions: a vertex of three or more rings, or a shared vertex whose neighbours differ from
    // those of the nearest shared vertex before or after it (vertices of this ring alone lie
    // between them: the source's own simplification kept some of a border's vertices on one side
    // only, so those never mark a junction).
    const shared = (i: number) => owners.get(key(ring[i]!))!.size > 1;
    const nearestShared = (i: number, step: 1 | -1) => {
      for (let k = 1; k < m; k++) {
        const j = (i + step * k + m * k) % m;
        if (shared(j)) return j;
      }
      return i;
    };
    const fixed: number[] = [];
    for (let i = 0; i < m; i++) {
      if (!shared(i)) continue;
      const s = sig(ring[i]!);
      if (
        owners.get(key(ring[i]!))!.size > 2 ||
        s !== sig(ring[nearestShared(i, -1)]!) ||
        s !== sig(ring[nearestShared(i, 1)]!)
      )
        fixed.push(i);
    }
    if (fixed.length === 0) {
      // No junction (an island, or a ring wholly shared with one neighbour): fixed at its smallest
      // vertex and the vertex farthest from it, chosen the same way from either side.
      let first = 0;
      for (let i = 1; i < m; i++) if (key(ring[i]!) < key(ring[first]!)) first = i;
      let far = first;
      let best = -1;
      for (let i = 0; i < m; i++) {
        const d = Math.hypot(ring[i]![0] - ring[first]![0], ring[i]![1] - ring[first]![1]);
        if (d > best || (d === best && key(ring[i]!) < key(ring[far]!))) {
          best = d;
          far = i;
        }
      }
      fixed.push(...[first, far].sort((a, b) => a - b));
    }
    const out: Pt[] = [];
    for (let j = 0; j < fixed.length; j++) {
      const a = fixed[j]!;
      const b = fixed[(j + 1) % fixed.length]!;
      const arc: Pt[] = [];
      for (let i = a; ; i = (i + 1) % m) {
        arc.push(ring[i]!);
        if (i === b && arc.length > 1) break;
      }
      out.push(...simplifyArc(arc).slice(0, -1));
    }
    return out.length >= 3 ? [...out, out[0]!] : [...ring, ring[0]!];
  });
  let next = 0;
  return features.map((f) => {
    const polys = (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).map(
      (poly) => poly.map(() => simplified[next++]!),
    );
    const geometry: Geometry =
      f.geometry.type === 'Polygon'
        ? { type: 'Polygon', coordinates: polys[0]! }
        : { type: 'MultiPolygon', coordinates: polys };
    return { ...f, geometry };
  });
}

if (import.meta.main) {
  const fc = JSON.parse(fs.readFileSync(SOURCE, 'utf8')) as { type: string; features: Feature[] };
  const features = simplifyCollection(fc.features);
  const points = (fs: Feature[]) =>
    fs.reduce(
      (n, f) =>
        n +
        (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates)
          .flat()
          .reduce((k, r) => k + r.length, 0),
      0,
    );
  const text = `{"type":"FeatureCollection","features":[\n${features.map((f) => JSON.stringify(f)).join(',\n')}\n]}\n`;
  fs.writeFileSync(TARGET, text);
  console.log(
    `${features.length} features, ${points(fc.features)} → ${points(features)} points, ${(text.length / 1024).toFixed(0)} KiB → ${path.relative(root, TARGET)}`,
  );
}
