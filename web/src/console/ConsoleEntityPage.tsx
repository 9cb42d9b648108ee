/** Issue 6 console page (placeholder until its work lands). */
export function ConsoleEntityPage() {
  return null;
}
