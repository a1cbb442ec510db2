/**
 * Server errors with MongoDB's numeric codes and code names. The driver and mongoose branch on
 * `code`/`codeName`, so every failure the engine reports goes through this class.
 */
export const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  9: 'FailedToParse',
  11: 'UserNotFound',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  28: 'PathNotViable',
  27: 'IndexNotFound',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  52: 'DollarPrefixedFieldName',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  115: 'CommandNotSupported',
  168: 'InvalidPipelineOperator',
  241: 'ConversionFailure',
  10334: 'BSONObjectTooLarge',
  11000: 'DuplicateKey',
  40324: 'Location40324',
};

export class MongoServerError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Extra fields copied into the error reply (e.g. keyPattern/keyValue for 11000). */
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? `Location${code}`;
    this.extra = extra;
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** Shape used inside `writeErrors[]`. */
  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, codeName: this.codeName, errmsg: this.message, ...this.extra };
  }
}

/** A loud refusal of a feature the engine does not implement. */
export function unsupported(feature: string, code = 115): MongoServerError {
  return new MongoServerError(code, `embedded engine does not support ${feature}`);
}

/**
 * mingo throws plain Errors. Map the ones we know to MongoDB's codes; anything else becomes
 * BadValue (2) with mingo's message, so it is never mistaken for success.
 */
export function mapMingoError(err: unknown): MongoServerError {
  if (err instanceof MongoServerError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  let m: RegExpMatchArray | null;
  if (/would create a conflict/.test(msg)) return new MongoServerError(40, msg);
  if (/immutable field/.test(msg)) return new MongoServerError(66, msg.replace(/\.$/, ''));
  if ((m = msg.match(/Unknown update operator: '?(\$\w+)'?/))) {
    return new MongoServerError(9, `Unknown modifier: ${m[1]}. Expected a valid update modifier or pipeline-style update specified as an array`);
  }
  if ((m = msg.match(/unregistered pipeline operator (\$\w+)/))) {
    return new MongoServerError(40324, `Unrecognized pipeline stage name: '${m[1]}'`);
  }
  if ((m = msg.match(/unknown query operator (\$\w+)/))) return new MongoServerError(2, `unknown operator: ${m[1]}`);
  if ((m = msg.match(/(?:unknown|unregistered) (?:expression|accumulator|window) operator:? ?'?(\$\w+)/i))) {
    return new MongoServerError(168, `Unrecognized expression '${m[1]}'`);
  }
  if (/not registered/.test(msg)) return new MongoServerError(168, msg);
  return new MongoServerError(2, msg);
}
