/**
 * The dashboard's one colour table (issue 6): the map's municipalities, the legend, the progress
 * chart and the swatches in the tables all take a state's colour from here. A roll-out order:
 * greys and warm colours before provisioning, blues while it is being set up and tried, green
 * when live, red when suspended. Every colour is a fill (never behind text); neighbouring states
 * differ in lightness as well as hue, and each shape also has a dark outline.
 */
export const ENTITY_STATES = [
  'listed',
  'requested',
  'scheduled',
  'provisioning',
  'pilot',
  'live',
  'suspended',
] as const;
export type EntityState = (typeof ENTITY_STATES)[number];

export const STATE_COLOURS: Record<EntityState, string> = {
  listed: '#d5d9df',
  requested: '#f6c85f',
  scheduled: '#e07b28',
  provisioning: '#9dc3e6',
  pilot: '#2f6eba',
  live: '#1e7b3c',
  suspended: '#b3261e',
};

/** A municipality without an entity on the platform (the province not imported yet). */
export const NO_ENTITY_COLOUR = '#ffffff';

export function stateColour(state: string | null): string {
  return state && state in STATE_COLOURS ? STATE_COLOURS[state as EntityState] : NO_ENTITY_COLOUR;
}
