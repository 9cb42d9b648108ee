/** Issue 6: the entity administrator's view of support access requests (placeholder until its work lands). */
export function SupportAccessPage() {
  return null;
}
