/** NTI document types (Resolución de 19 de julio de 2011, NTI de Documento Electrónico, anexo I). */
export const DOCUMENT_TYPES = [
  'TD01',
  'TD02',
  'TD03',
  'TD04',
  'TD05',
  'TD06',
  'TD07',
  'TD08',
  'TD09',
  'TD10',
  'TD11',
  'TD12',
  'TD13',
  'TD14',
  'TD15',
  'TD16',
  'TD17',
  'TD18',
  'TD19',
  'TD20',
  'TD99',
] as const;

/** NTI elaboration states: original, authentic copies (format change, from paper, partial), other. */
export const ELABORATION_STATES = ['EE01', 'EE02', 'EE03', 'EE04', 'EE99'] as const;

/** NTI origin: made by the administration, or brought by a citizen. */
export const ORIGINS = ['administration', 'citizen'] as const;
