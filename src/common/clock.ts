/** Now as the ISO 8601 UTC timestamp the API and the database use. */
export function nowIso(): string {
  return new Date().toISOString();
}
