/**
 * The seu's people (issue 5). Shared contract between the citizens module (OpenID Connect login,
 * sessions, representation) and the modules that serve citizens (seu filings and folder,
 * notifications, notice board).
 */

export type CitizenLanguage = 'ca' | 'es' | 'oc-aranes';

/**
 * A person logged in to the seu through OpenID Connect (the AOC's VÀLid in production, the demo
 * provider in demo mode). Installation-wide: the same session serves every entity's seu.
 */
export type Citizen = {
  sessionId: string;
  /** NIF/NIE from the ID token, normalised as parties store it (upper case, no separators). */
  identifier: string;
  name: string;
  email: string | null;
  language: CitizenLanguage | null;
};

/** A power of attorney in force that lets the citizen act for someone else (LPACAP art. 6). */
export type RepresentationRef = {
  id: string;
  scope: 'general' | 'procedure';
  /** The procedure code when scope is 'procedure'. */
  procedure: string | null;
};

/**
 * On whose behalf a citizen acts in one entity's seu: themself (representation null), or a
 * represented person under a power in force. Every act done with a representation records it.
 */
export type Acting = {
  citizen: Citizen;
  /** The person whose folder is shown and for whom acts are done. */
  subject: { identifier: string; name: string };
  representation: RepresentationRef | null;
};
