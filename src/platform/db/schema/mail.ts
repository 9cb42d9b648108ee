/** Tables of the mail module (issue 5). Added to DB in ../schema.ts; platform tables also go on PLATFORM_TABLES there. */
// biome-ignore lint/complexity/noBannedTypes: filled in by the module's migration
export type MailTables = {};
