/** Issue 6 console page (placeholder until its work lands). */
export function EnrolmentRequestPage() {
  return null;
}
