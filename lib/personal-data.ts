/**
 * Recognisable personal data in free text (PIPL 个人信息): ID-card, mobile and landline numbers,
 * e-mail addresses and the doors of homes. One set of patterns for every subgraph: governance masks
 * them in text personal-data readers see; fields published to everyone refuse them on input.
 * Recognition is a safety net: names in running text are not reliably recognisable.
 */
import { badInput } from './errors';

export const ID_CARD = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;
/** Mobile numbers, also written in groups: 13812345678, 138 1234 5678, 138-1234-5678, 138.1234.5678, +86 138… */
export const MOBILE = /(?<!\d)(?:\+?86[- .]?)?1[3-9]\d[- .]?\d{4}[- .]?\d{4}(?!\d)/g;
export const LANDLINE = /(?<!\d)0\d{2,3}[- .]?\d{3,4}[- .]?\d{4}(?!\d)/g;
/** A home's door: 5栋2单元301室, 3号楼502, 12幢1单元1201号, 502室 … */
export const DOOR = /\d+\s*(?:栋|幢|号楼|座)\s*(?:\d+\s*单元\s*)?\d+(?:\s*(?:室|号|户))?|\d+\s*单元\s*\d+(?:\s*(?:室|号|户))?|\d{3,4}\s*(?:室|户)/g;
export const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Full-width digits, letters and + - . (１３８…) as their ASCII forms; Chinese punctuation is kept. */
export function asciiWidth(text: string): string {
  return text.replace(/[０-９Ａ-Ｚａ-ｚ＋－．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** Non-global copies of the patterns for testing (a global RegExp keeps state between tests). */
const KINDS: [RegExp, string][] = (
  [
    [ID_CARD, 'an ID-card number'],
    [MOBILE, 'a phone number'],
    [LANDLINE, 'a phone number'],
    [EMAIL, 'an e-mail address'],
    [DOOR, "a home's door number"],
  ] as [RegExp, string][]
).map(([re, kind]) => [new RegExp(re.source, re.flags.replace('g', '')), kind]);

/** What kind of personal data the text holds, if any recognisable. */
export function personalDataIn(text: string): string | null {
  const t = asciiWidth(text);
  for (const [re, kind] of KINDS) if (re.test(t)) return kind;
  return null;
}

/**
 * For text fields everyone may read (names of projects, organisations, units, sources): refuses
 * recognisable personal data with BAD_USER_INPUT naming the field.
 */
export function refusePersonalData<T extends string | null | undefined>(field: string, text: T): T {
  const kind = text ? personalDataIn(text) : null;
  if (kind) throw badInput(field, `looks like it holds ${kind}; this field is published to everyone, so leave personal data out`);
  return text;
}
