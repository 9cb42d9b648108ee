/**
 * The entity's slug: its display name in lower case, accents removed, every other run of
 * characters a single hyphen ("La Seu d'Urgell" → "la-seu-d-urgell").
 */
export function slugify(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[·•]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
