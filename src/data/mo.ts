/**
 * A small reader for GNU gettext `.mo` catalogs (browser-safe: takes bytes).
 * Layout: magic, revision, count N, offset of the original-string table, offset
 * of the translation table; each table holds N (length, offset) pairs.
 */
import { DataError, expected } from '../tensor/index.js';

export interface MoEntry {
  /** msgctxt, or null when the entry has none. */
  context: string | null;
  /** msgid (singular); '' is the header entry. */
  id: string;
  /** msgid_plural, or null for a non-plural entry. */
  idPlural: string | null;
  /** msgstr, or msgstr[0..n] for a plural entry. */
  strings: string[];
}

const MAGIC = 0x950412de;
const HEADER_BYTES = 20;
/**
 * The strings of a catalog may total at most this many times its size. msgfmt writes each string
 * once (the installed catalogs total 0.95× their size at most), but entries may all point at one
 * large string: 2,000 of them at a 1 MB string would decode 4 GB. Twice leaves room for a writer
 * that shares some strings.
 */
const MAX_STRING_BYTES_PER_FILE_BYTE = 2;
/** msgstr[0..n]: languages have at most 6 plural forms; a string of NULs would make one per byte. */
const MAX_PLURAL_FORMS = 16;

/** Reads every entry of a `.mo` file; malformed files are DataErrors naming `where` and the reason. */
export function readMo(bytes: Uint8Array, where: string): MoEntry[] {
  if (bytes.length < HEADER_BYTES) throw new DataError(expected(where, `a .mo file of at least ${HEADER_BYTES} bytes`, `${bytes.length} bytes`));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The writer's byte order: the magic reads right in exactly one of them.
  let little: boolean;
  if (view.getUint32(0, true) === MAGIC) little = true;
  else if (view.getUint32(0, false) === MAGIC) little = false;
  else throw new DataError(expected(where, 'the .mo magic 0x950412de', `0x${view.getUint32(0, true).toString(16).padStart(8, '0')}`));
  const u32 = (at: number): number => view.getUint32(at, little);
  const major = u32(4) >>> 16;
  if (major > 1) throw new DataError(expected(where, '.mo major revision 0 or 1', major));
  const count = u32(8);
  const originals = u32(12);
  const translations = u32(16);
  for (const [name, at] of [['original', originals], ['translation', translations]] as const) {
    if (at + count * 8 > bytes.length) {
      throw new DataError(expected(where, `a ${name} table of ${count} entries within the file`, `one at offset ${at} past the end (${bytes.length} bytes)`));
    }
  }
  let total = 0;
  for (const table of [originals, translations]) for (let i = 0; i < count; i++) total += u32(table + i * 8);
  const budget = MAX_STRING_BYTES_PER_FILE_BYTE * bytes.length;
  if (total > budget) {
    const what = `strings of at most ${budget} bytes in all (${MAX_STRING_BYTES_PER_FILE_BYTE}× the file's size)`;
    throw new DataError(expected(where, what, `${total} bytes`, 'entries that share one string?'));
  }
  const raw = (table: number, i: number): Uint8Array => {
    const length = u32(table + i * 8);
    const offset = u32(table + i * 8 + 4);
    if (offset + length > bytes.length) {
      throw new DataError(expected(where, `string ${i} within the file`, `bytes ${offset}..${offset + length} past the end (${bytes.length} bytes)`));
    }
    return bytes.subarray(offset, offset + length);
  };

  const decoder = new TextDecoder('utf-8', { fatal: true });
  let ascii = true; // before the header says otherwise, only ASCII is safe
  const decode = (b: Uint8Array, what: string): string => {
    if (ascii && b.some((x) => x > 0x7f)) throw new DataError(expected(where, `ASCII or a UTF-8 charset`, `non-ASCII bytes in ${what} of a catalog without a UTF-8 header`));
    try {
      return decoder.decode(b);
    } catch {
      throw new DataError(expected(where, 'valid UTF-8', `invalid bytes in ${what}`));
    }
  };

  // The header (empty msgid, sorted first) names the charset; read it before the rest.
  for (let i = 0; i < count; i++) {
    if (raw(originals, i).length !== 0) continue;
    const charset = /charset=\s*([^\s;]+)/i.exec(new TextDecoder('latin1').decode(raw(translations, i)))?.[1]?.toLowerCase();
    if (charset === 'utf-8' || charset === 'utf8') ascii = false;
    else if (charset !== undefined && charset !== 'ascii' && charset !== 'us-ascii' && charset !== 'charset') {
      // 'CHARSET' is the template placeholder: treat as ASCII-only.
      throw new DataError(expected(where, 'a UTF-8 or ASCII catalog', `charset ${charset}`));
    }
  }

  const entries: MoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const original = decode(raw(originals, i), `msgid ${i}`);
    const translated = decode(raw(translations, i), `msgstr ${i}`);
    const eot = original.indexOf('\x04'); // msgctxt \x04 msgid
    const context = eot >= 0 ? original.slice(0, eot) : null;
    const ids = eot >= 0 ? original.slice(eot + 1) : original;
    const nul = ids.indexOf('\x00'); // msgid \0 msgid_plural
    const strings = translated.split('\x00', MAX_PLURAL_FORMS + 1);
    if (strings.length > MAX_PLURAL_FORMS) {
      throw new DataError(expected(where, `msgstr ${i} of at most ${MAX_PLURAL_FORMS} plural forms`, 'more'));
    }
    const [id, idPlural] = nul >= 0 ? [ids.slice(0, nul), ids.slice(nul + 1)] : [ids, null];
    entries.push({ context, id, idPlural, strings });
  }
  return entries;
}
