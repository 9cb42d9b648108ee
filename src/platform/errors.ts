/**
 * Stable error codes. The HTTP layer maps each to a status and a problem+json body whose
 * `code` the UI translates; clients may rely on them.
 */
export type ErrorCode =
  | 'STATE_UNCHANGED' // issue 6: the entity is already in that state
  | 'STATE_TRANSITION_NOT_ALLOWED' // issue 6: the roll-out does not allow that change of state
  | 'CHECKLIST_INCOMPLETE' // issue 6: going live needs every go-live checklist item (details.missing)
  | 'CHECKLIST_ITEM_UNKNOWN' // issue 6: not an item of the go-live checklist
  | 'BYPASS_REASON_REQUIRED' // issue 6: bypassing the certification gate needs a written reason
  | 'ENROLMENT_NOT_FOUND' // issue 6: no such enrolment request
  | 'ENROLMENT_ALREADY_DECIDED' // issue 6: the enrolment request was already accepted or rejected
  | 'ENROLMENT_DUPLICATE' // issue 6: the entity already has an open or accepted enrolment request
  | 'ENROLMENT_ENTITY_UNKNOWN' // issue 6: the entity is not one of the province's municipalities (or the EMD's parent is unknown)
  | 'ENROLMENT_SIGNATURE_INVALID' // issue 6: an uploaded signed PDF has no valid signature
  | 'ENROLMENT_FILE_INVALID' // issue 6: an uploaded file is missing, not a PDF, or too large
  | 'CALL_NOT_FOUND' // issue 6: no such call for enrolment
  | 'WAVE_NOT_FOUND' // issue 6: no such roll-out wave
  | 'WAVE_NAME_TAKEN' // issue 6: a wave or call with that name exists
  | 'WAVE_FULL' // issue 6: the wave already has its number of entities
  | 'WAVE_ENTITY_NOT_ELIGIBLE' // issue 6: the entity cannot join that wave (no accepted request, or already further on)
  | 'PROVISIONING_NOT_ALLOWED' // issue 6: the entity is not in a state that can be provisioned
  | 'INVITATION_INVALID' // issue 6: the invitation link is unknown, used or expired
  | 'SUPPORT_GRANT_NOT_FOUND' // issue 6: no such support access request
  | 'SUPPORT_GRANT_ALREADY_DECIDED' // issue 6: the support access request was already decided
  | 'SUPPORT_GRANT_TOO_LONG' // issue 6: support access may last at most the configured maximum
  | 'VALIDATION_FAILED' // the request body, query or params do not match the schema
  | 'MALFORMED_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE' // an upload above LLIGALL_MAX_UPLOAD_MB
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'LOGIN_LOCKED' // too many wrong passwords; retry after the lock
  | 'TOTP_REQUIRED' // the account has TOTP: send the code
  | 'TOTP_INVALID'
  | 'TOTP_ENROLLMENT_REQUIRED' // admins, operators and support must enrol TOTP before anything else (ENS)
  | 'TOTP_ALREADY_ENROLLED'
  | 'CSRF_REJECTED' // a cookie-authenticated change from another origin
  | 'ACCOUNT_DISABLED'
  | 'ENTITY_SUSPENDED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'ENTITY_NOT_FOUND'
  | 'EXPEDIENT_NOT_FOUND'
  | 'DOCUMENT_NOT_FOUND'
  | 'PARTY_NOT_FOUND'
  | 'UNIT_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'INVALID_IDENTIFIER' // a NIF/NIE/CIF whose check character is wrong, or a malformed identifier
  | 'PARTY_IDENTIFIER_TAKEN'
  | 'USERNAME_TAKEN'
  | 'EXPEDIENT_CLOSED' // a closed case file (E02) accepts no documents or parties
  | 'EXPEDIENT_ALREADY_CLOSED'
  | 'EXPEDIENT_NOT_CLOSED'
  | 'REGISTRY_ENTRY_IMMUTABLE' // a registry entry is never changed or deleted: a correction is an annotation (LPACAP art. 16)
  | 'DOCUMENT_IMMUTABLE' // an incorporated document is never changed or deleted (LPACAP art. 26; NTI)
  | 'DOCUMENT_FILE_MISSING'
  | 'BLOB_CORRUPT' // a stored file no longer matches its SHA-256
  | 'DATABASE_LOCKED' // the embedded database belongs to another process
  | 'SCHEMA_UNKNOWN' // the database schema is newer or older than this program
  | 'CALENDAR_INCOMPLETE' // the holidays of a year or place are not known (no data): an administrator enters them; never guessed
  | 'ENTRY_ALREADY_LINKED' // the registry entry is already linked to that case file
  | 'OFFICIAL_NOT_AUTHORISED' // the caller is not an authorised official in force for that act (LPACAP art. 12.3, 27.1)
  | 'OFFICIAL_NOT_FOUND'
  | 'OFFICIAL_ALREADY_REVOKED'
  | 'OFFICIAL_ALREADY_REGISTERED' // the user already has a record in force for an overlapping period
  | 'PAPER_ORIGINAL_NOT_FOUND'
  | 'PAPER_ORIGINAL_ALREADY_RETURNED' // a paper original is returned to the filer once (art. 16.5)
  | 'SCAN_NOT_SEALABLE' // a desk scan cannot become a sealed PDF copy (encrypted or broken PDF, broken image): scan the paper again
  | 'COPY_NOT_SEALED' // the desk copy has no sealed version (yet: pending; or never: TIFF, or a scan that cannot be sealed)
  | 'FILE_TYPE_NOT_ACCEPTED' // the uploaded file's type (declared and by its first bytes) is not one the route takes
  | 'CSV_INVALID' // not a CSV: 20 letters and digits of Crockford's base32, in groups of five
  | 'CSV_NOT_FOUND' // a well-formed CSV that no document of this installation has
  | 'RECEIPT_NOT_READY' // the entry's receipt is being issued (it follows the entry's commit within seconds)
  | 'FILING_TOO_MANY_ATTACHMENTS' // a seu request carries at most 5 attachments
  | 'FILING_ATTACHMENT_TOO_LARGE' // one attachment of a seu request is larger than 10 MiB
  | 'FILING_ATTACHMENTS_TOO_LARGE' // the attachments of a seu request together exceed 25 MiB
  | 'FILING_ATTACHMENT_EMPTY' // an attachment of a seu request has no content
  | 'MUX_TOKEN_INVALID' // MUX v3's JWT is missing, badly signed, of another issuer or subject, or not configured for the entity
  | 'MUX_TOKEN_EXPIRED' // MUX v3's JWT has expired (or lives longer than the registry accepts)
  | 'MUX_TRANSACTION_INVALID' // the MUX v3 transaction lacks or mis-states a field the entry needs (body also carries resultat/codiError/missatgeError)
  | 'MUX_TRANSACTION_CONFLICT' // the same idTransaccio and direction arrived before with other data
  | 'MUX_ATTACHMENT_TOO_LARGE' // a DESA'L document is larger than LLIGALL_MUX_MAX_ATTACHMENT_MB
  | 'MUX_ATTACHMENT_UNAVAILABLE' // a DESA'L document could not be fetched (not found, not reachable, external by CSV)
  | 'MUX_ATTACHMENT_HASH_MISMATCH' // a fetched DESA'L document does not match the hash the transaction declared
  | 'JOBS_NOT_STARTED' // the job system was used before jobs.start() (a boot-order error)
  | 'JOB_UNKNOWN' // a job was sent or drained under a name no handler is registered for
  | 'POSITION_NOT_FOUND'
  | 'POSITION_HOLDER_OVERLAP' // a position has one holder a day: the new holder starts on or before a later holder's start
  | 'POSITION_ABSENCE_OVERLAP' // the holder is already recorded absent on some of those days
  | 'POSITION_VACANT' // nobody holds the position that day
  | 'POSITION_NO_SUBSTITUTE' // the holder is absent and no substitute (user, or the substitute position's holder) can act
  | 'CSC_CREDENTIAL_NOT_FOUND' // CSC v2 invalid_request: no such credential of the caller
  | 'CSC_OTP_INVALID' // CSC v2 invalid_otp: the TOTP code is wrong or was already used
  | 'CSC_PIN_INVALID' // CSC v2 invalid_pin: the password (demo PIN, only for users without TOTP) is wrong
  | 'CSC_SAD_INVALID' // CSC v2 invalid_request: the SAD is unknown, of another credential, or does not cover these hashes
  | 'CSC_SAD_EXPIRED' // the SAD's short life is over: authorize again
  | 'CSC_SAD_USED' // a SAD signs once
  | 'CSC_ALGORITHM_UNSUPPORTED' // a signAlgo or hashAlgo the credential does not offer
  | 'CSC_REMOTE_ERROR' // the remote CSC service answered with an error (its error and description in the details)
  | 'SEAL_UNAVAILABLE' // the entity has no active seal to seal a document it issues (production: the operator imports it with `lligall seal import`)
  | 'SIGNATURE_UNREADABLE' // the document cannot be read for verification (not a PDF, a malformed signature file, XML with a DTD)
  | 'TRUSTED_CA_INVALID' // a trust anchor must be one PEM CA certificate (basicConstraints CA)
  | 'TRUSTED_CA_NOT_FOUND'
  | 'SIGNATURE_NOT_YOUR_TURN' // the caller is not a pending signer of the circuit's current step
  | 'CIRCUIT_NOT_ACTIVE' // the circuit was completed, rejected or cancelled: nobody acts on it any more
  | 'RESOLUTION_NO_DELEGATION' // the deciding councillor or deputy mayor has no delegation decree in force today
  | 'REMINDER_TOO_SOON' // the step's signers were reminded less than a day ago
  | 'CIRCUIT_NO_PENDING_SIGNER' // nobody can act on the step today (vacant position): nobody to remind
  | 'CIRCUIT_ALREADY_EXISTS' // the draft has (or had) a circuit; a stopped draft is uploaded again as a new draft
  | 'CIRCUIT_FORMAT_UNSUPPORTED' // the draft cannot go through a circuit in its format (an unreadable or encrypted PDF; a resolution that is not a PDF)
  | 'SIGNATURE_UPLOAD_INVALID' // the uploaded signature cannot be read, is not a signature of the expected kind (PAdES over the draft, detached CAdES/XAdES over its bytes), or its integrity fails
  | 'SIGNATURE_UPLOAD_NOT_APPENDED' // the uploaded PDF is not the current draft with exactly one signature appended (earlier bytes changed, no or several new signatures, another field, or pages changed)
  | 'SIGNATURE_SIGNER_MISMATCH' // the uploaded signature's certificate does not carry the caller's NIF (or the caller has none registered)
  | 'SIGNATURE_UNTRUSTED' // the uploaded signature's certificate does not chain to a CA this installation trusts, or was not valid (expired, revoked)
  | 'CIRCUIT_VISTIPLAU_NOT_MAYOR' // a vistiplau step is signed by the mayor/president position (its acting holder) only (ROF art. 205)
  | 'DRAFT_NOT_EDITABLE' // the document is not a draft, or its circuit has started: its content no longer changes
  | 'RESOLUTION_CIRCUIT_INVALID' // a resolution is a TD01 whose circuit has a deciding step (mayor/president, or a councillor by delegation, one position) followed, last, by the secretary's transcription step
  | 'RESOLUTION_NOT_STAMPED' // the decree's number and date are not yet stamped onto the PDF: the secretary signs once they are (seconds; a job completes it)
  | 'RESOLUTION_BOOK_NO_SECRETARY' // the entity has no secretary (or secretary-intervenor) position to sign the book's diligences
  | 'RESOLUTION_BOOK_ALREADY_OPEN' // the year's opening diligence is signed already
  | 'RESOLUTION_BOOK_ALREADY_CLOSED' // the year's closing diligence is signed already
  | 'RESOLUTION_DILIGENCE_PENDING' // that diligence waits for the secretary's signature (reject or cancel its circuit to ask again)
  | 'RESOLUTION_BOOK_NOT_OPEN' // the book is closed only after its opening diligence is signed
  | 'RESOLUTION_BOOK_YEAR_NOT_ENDED' // a year's book is closed once the year has ended (Europe/Madrid)
  | 'RESOLUTION_BOOK_TRANSCRIPTION_PENDING' // numbered decrees of the year wait for the secretary's transcription (details.numbers)
  | 'RESOLUTION_BOOK_TOO_LARGE' // the year's documents exceed what one compiled PDF is built from in memory
  | 'PLE_SESSION_NONE' // no ordinary Ple session is recorded: record it, or give `since`
  | 'CITIZEN_LOGIN_REQUIRED' // a seu route that needs a citizen logged in through OpenID Connect
  | 'CITIZEN_IDENTIFIER_INVALID' // the OpenID provider's identifier claim is missing or not a valid NIF/NIE: no seu session is opened
  | 'OIDC_NOT_CONFIGURED' // no OpenID provider is configured for the seu (LLIGALL_OIDC_ISSUER …)
  | 'OIDC_LOGIN_FAILED' // the OpenID Connect answer is unknown, expired, tampered with, or the provider refused the login
  | 'REPRESENTATION_NOT_FOUND'
  | 'REPRESENTATION_TOO_LONG' // a power of attorney lasts at most 5 years from its start (valid_to ≤ valid_from + 5 years)
  | 'REPRESENTATION_ALREADY_REVOKED'
  | 'REPRESENTATION_SELF' // a person cannot be their own representative
  | 'BOARD_PUBLICATION_NOT_FOUND' // no publication of the notice board with that id in this entity
  | 'BOARD_PERIOD_INVALID' // a publication's period: a start date from today on, and either a term (business or calendar days) or an end date on or after the start
  | 'BOARD_PERSONAL_DATA_NOT_REVIEWED' // publishing needs personalDataReviewed: true (the document is anonymised as LOPDGDD AP7 requires)
  | 'BOARD_DOCUMENT_NOT_PUBLISHABLE' // the document is not a PDF incorporated in that case file's index
  | 'BOARD_PUBLICATION_ENDED' // the publication has ended or was withdrawn already: it cannot be withdrawn
  | 'BOARD_PUBLICATION_NOT_ENDED' // its certificate of publication is issued once it has ended (or was withdrawn)
  | 'BOARD_NEVER_PUBLISHED' // withdrawn before its start: it was never visible, there is nothing to certify
  | 'BOARD_CERTIFICATE_NOT_READY' // the certificate of publication has not been issued yet (the sweeper issues it at the end; or POST …/certificate)
  | 'SEU_INCIDENT_NOT_FOUND'
  | 'SEU_INCIDENT_ALREADY_SET' // an incident's end, or its deadline extension, is recorded once
  | 'NOTIFICATION_CHANNEL_NOT_ALLOWED' // electronic notification for a party neither obliged (LPACAP art. 14.2) nor having chosen it (art. 41.1)
  | 'NOTIFICATION_PARTY_NOT_IN_EXPEDIENT' // a notification goes to an interested party of its case file
  | 'NOTIFICATION_DOCUMENT_NOT_IN_EXPEDIENT' // a notified document must be in the case file's index
  | 'NOTIFICATION_EXPIRED' // not accessed by 24:00 of the 10th calendar day after it was made available: deemed rejected (LPACAP art. 43.2), no longer accessible
  | 'NOTIFICATION_REJECTED' // the notification was rejected (explicitly or deemed): it counts as notified and is no longer accessible in the seu
  | 'NOTIFICATION_ALREADY_SETTLED' // the notification was already accessed, rejected, delivered or failed: this outcome cannot follow
  | 'NOTIFICATION_NOT_ACCESSED' // a notified document is downloaded after the notification is accessed
  | 'NOTIFICATION_NOT_PAPER' // paper attempts are recorded only for notifications on the paper channel
  | 'NOTIFICATION_ATTEMPTS_CLOSED' // no further paper attempt: delivered, rejected, address unknown, or two attempts made
  | 'NOTIFICATION_ATTEMPT_NOT_AFTER_ABSENCE' // a second paper attempt follows only an absent first one (LPACAP art. 42.2)
  | 'NOTIFICATION_ATTEMPT_OUT_OF_TERM' // the second paper attempt must be within the 3 business days after the first (LPACAP art. 42.2)
  | 'NOTIFICATION_ATTEMPT_SAME_HALF_DAY' // the second paper attempt is in the other half of the day: after 15:00 if the first was before, and vice versa (art. 42.2)
  | 'NOTIFICATION_ATTEMPT_TOO_SOON' // the two paper attempts are at least 3 hours apart (art. 42.2)
  | 'NOTIFICATION_ATTEMPT_TIME_INVALID' // a paper attempt's time is before the notification was issued, before the previous attempt, or in the future
  | 'NOTIFICATION_RECEIVER_UNDER_14' // a paper notification is delivered to someone other than the party only if over 14 and identified (art. 42.2)
  | 'NOTIFICATION_NOT_FAILED' // only a failed paper notification (two absent attempts, or unknown address) is sent for publication (art. 44)
  | 'NOTIFICATION_EVIDENCE_NOT_READY' // the evidence of that outcome is being issued (seconds after the outcome)
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  LOGIN_LOCKED: 429,
  TOTP_REQUIRED: 401,
  TOTP_INVALID: 401,
  TOTP_ENROLLMENT_REQUIRED: 403,
  TOTP_ALREADY_ENROLLED: 409,
  CSRF_REJECTED: 403,
  ACCOUNT_DISABLED: 403,
  ENTITY_SUSPENDED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ENTITY_NOT_FOUND: 404,
  EXPEDIENT_NOT_FOUND: 404,
  DOCUMENT_NOT_FOUND: 404,
  PARTY_NOT_FOUND: 404,
  UNIT_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  INVALID_IDENTIFIER: 422,
  PARTY_IDENTIFIER_TAKEN: 409,
  USERNAME_TAKEN: 409,
  EXPEDIENT_CLOSED: 409,
  EXPEDIENT_ALREADY_CLOSED: 409,
  EXPEDIENT_NOT_CLOSED: 409,
  REGISTRY_ENTRY_IMMUTABLE: 409,
  DOCUMENT_IMMUTABLE: 409,
  DOCUMENT_FILE_MISSING: 500,
  BLOB_CORRUPT: 500,
  DATABASE_LOCKED: 503,
  SCHEMA_UNKNOWN: 503,
  CALENDAR_INCOMPLETE: 422,
  ENTRY_ALREADY_LINKED: 409,
  OFFICIAL_NOT_AUTHORISED: 403,
  OFFICIAL_NOT_FOUND: 404,
  OFFICIAL_ALREADY_REVOKED: 409,
  OFFICIAL_ALREADY_REGISTERED: 409,
  PAPER_ORIGINAL_NOT_FOUND: 404,
  PAPER_ORIGINAL_ALREADY_RETURNED: 409,
  SCAN_NOT_SEALABLE: 422,
  COPY_NOT_SEALED: 409,
  FILE_TYPE_NOT_ACCEPTED: 415,
  CSV_INVALID: 400,
  CSV_NOT_FOUND: 404,
  RECEIPT_NOT_READY: 404,
  FILING_TOO_MANY_ATTACHMENTS: 422,
  FILING_ATTACHMENT_TOO_LARGE: 413,
  FILING_ATTACHMENTS_TOO_LARGE: 413,
  FILING_ATTACHMENT_EMPTY: 422,
  MUX_TOKEN_INVALID: 401,
  MUX_TOKEN_EXPIRED: 401,
  MUX_TRANSACTION_INVALID: 400,
  MUX_TRANSACTION_CONFLICT: 409,
  MUX_ATTACHMENT_TOO_LARGE: 413,
  MUX_ATTACHMENT_UNAVAILABLE: 502,
  MUX_ATTACHMENT_HASH_MISMATCH: 422,
  JOBS_NOT_STARTED: 500,
  JOB_UNKNOWN: 500,
  POSITION_NOT_FOUND: 404,
  POSITION_HOLDER_OVERLAP: 409,
  POSITION_ABSENCE_OVERLAP: 409,
  POSITION_VACANT: 409,
  POSITION_NO_SUBSTITUTE: 409,
  CSC_CREDENTIAL_NOT_FOUND: 400,
  CSC_OTP_INVALID: 400,
  CSC_PIN_INVALID: 400,
  CSC_SAD_INVALID: 400,
  CSC_SAD_EXPIRED: 400,
  CSC_SAD_USED: 400,
  CSC_ALGORITHM_UNSUPPORTED: 400,
  CSC_REMOTE_ERROR: 502,
  SEAL_UNAVAILABLE: 409,
  SIGNATURE_UNREADABLE: 422,
  TRUSTED_CA_INVALID: 422,
  TRUSTED_CA_NOT_FOUND: 404,
  SIGNATURE_NOT_YOUR_TURN: 409,
  CIRCUIT_NOT_ACTIVE: 409,
  RESOLUTION_NO_DELEGATION: 409,
  REMINDER_TOO_SOON: 409,
  CIRCUIT_NO_PENDING_SIGNER: 409,
  CIRCUIT_ALREADY_EXISTS: 409,
  CIRCUIT_FORMAT_UNSUPPORTED: 422,
  SIGNATURE_UPLOAD_INVALID: 422,
  SIGNATURE_UPLOAD_NOT_APPENDED: 422,
  SIGNATURE_SIGNER_MISMATCH: 422,
  SIGNATURE_UNTRUSTED: 422,
  CIRCUIT_VISTIPLAU_NOT_MAYOR: 422,
  DRAFT_NOT_EDITABLE: 409,
  RESOLUTION_CIRCUIT_INVALID: 422,
  RESOLUTION_NOT_STAMPED: 409,
  RESOLUTION_BOOK_NO_SECRETARY: 422,
  RESOLUTION_BOOK_ALREADY_OPEN: 409,
  RESOLUTION_BOOK_ALREADY_CLOSED: 409,
  RESOLUTION_DILIGENCE_PENDING: 409,
  RESOLUTION_BOOK_NOT_OPEN: 409,
  RESOLUTION_BOOK_YEAR_NOT_ENDED: 409,
  RESOLUTION_BOOK_TRANSCRIPTION_PENDING: 409,
  RESOLUTION_BOOK_TOO_LARGE: 422,
  PLE_SESSION_NONE: 422,
  CITIZEN_LOGIN_REQUIRED: 401,
  CITIZEN_IDENTIFIER_INVALID: 422,
  OIDC_NOT_CONFIGURED: 503,
  OIDC_LOGIN_FAILED: 400,
  REPRESENTATION_NOT_FOUND: 404,
  REPRESENTATION_TOO_LONG: 422,
  REPRESENTATION_ALREADY_REVOKED: 409,
  REPRESENTATION_SELF: 422,
  BOARD_PUBLICATION_NOT_FOUND: 404,
  BOARD_PERIOD_INVALID: 422,
  BOARD_PERSONAL_DATA_NOT_REVIEWED: 422,
  BOARD_DOCUMENT_NOT_PUBLISHABLE: 422,
  BOARD_PUBLICATION_ENDED: 409,
  BOARD_PUBLICATION_NOT_ENDED: 409,
  BOARD_NEVER_PUBLISHED: 409,
  BOARD_CERTIFICATE_NOT_READY: 404,
  SEU_INCIDENT_NOT_FOUND: 404,
  SEU_INCIDENT_ALREADY_SET: 409,
  NOTIFICATION_CHANNEL_NOT_ALLOWED: 422,
  NOTIFICATION_PARTY_NOT_IN_EXPEDIENT: 422,
  NOTIFICATION_DOCUMENT_NOT_IN_EXPEDIENT: 422,
  NOTIFICATION_EXPIRED: 409,
  NOTIFICATION_REJECTED: 409,
  NOTIFICATION_ALREADY_SETTLED: 409,
  NOTIFICATION_NOT_ACCESSED: 409,
  NOTIFICATION_NOT_PAPER: 409,
  NOTIFICATION_ATTEMPTS_CLOSED: 409,
  NOTIFICATION_ATTEMPT_NOT_AFTER_ABSENCE: 409,
  NOTIFICATION_ATTEMPT_OUT_OF_TERM: 422,
  NOTIFICATION_ATTEMPT_SAME_HALF_DAY: 422,
  NOTIFICATION_ATTEMPT_TOO_SOON: 422,
  NOTIFICATION_ATTEMPT_TIME_INVALID: 422,
  NOTIFICATION_RECEIVER_UNDER_14: 422,
  NOTIFICATION_NOT_FAILED: 409,
  NOTIFICATION_EVIDENCE_NOT_READY: 404,
  STATE_UNCHANGED: 409,
  STATE_TRANSITION_NOT_ALLOWED: 409,
  CHECKLIST_INCOMPLETE: 409,
  CHECKLIST_ITEM_UNKNOWN: 422,
  BYPASS_REASON_REQUIRED: 422,
  ENROLMENT_NOT_FOUND: 404,
  ENROLMENT_ALREADY_DECIDED: 409,
  ENROLMENT_DUPLICATE: 409,
  ENROLMENT_ENTITY_UNKNOWN: 422,
  ENROLMENT_SIGNATURE_INVALID: 422,
  ENROLMENT_FILE_INVALID: 422,
  CALL_NOT_FOUND: 404,
  WAVE_NOT_FOUND: 404,
  WAVE_NAME_TAKEN: 409,
  WAVE_FULL: 409,
  WAVE_ENTITY_NOT_ELIGIBLE: 409,
  PROVISIONING_NOT_ALLOWED: 409,
  INVITATION_INVALID: 404,
  SUPPORT_GRANT_NOT_FOUND: 404,
  SUPPORT_GRANT_ALREADY_DECIDED: 409,
  SUPPORT_GRANT_TOO_LONG: 422,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

/** The one error type of the application. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}
