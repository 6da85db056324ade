/**
 * USTAR and PAX header blocks exactly as Go's archive/tar writes them (KitOps §2.5), and the
 * matching decoder used by unpack. Layer digests depend on every byte here.
 */

export const BLOCK = 512;
/** 8 GiB − 1: the largest size an 11-digit octal field holds */
export const MAX_OCTAL_SIZE = 8 ** 11 - 1;

export type EntryType = 'file' | 'dir';

export interface TarEntryHeader {
  /** context-relative, forward slashes, no trailing slash */
  name: string;
  type: EntryType;
  /** permission bits (with setuid/setgid/sticky) */
  mode: number;
  /** bytes; 0 for a directory */
  size: number;
}

const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CHKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const MAGIC = [257, 6] as const;
const VERSION = [263, 2] as const;
const DEVMAJOR = [329, 8] as const;
const DEVMINOR = [337, 8] as const;
const PREFIX = [345, 155] as const;

/** Go's formatString: copy, NUL-terminate when shorter, trim a trailing slash when cut. */
function putString(block: Buffer, [off, len]: readonly [number, number], s: Buffer): void {
  s.copy(block, off, 0, Math.min(s.length, len));
  if (s.length < len) block[off + s.length] = 0;
  if (s.length > len && block[off + len - 1] === 0x2f) {
    let n = len;
    while (n > 0 && s[n - 1] === 0x2f) n--;
    block[off + n] = 0;
  }
}

/** Go's formatOctal: zero-padded to len−1 digits, NUL-terminated; 0 if it does not fit. */
function putOctal(block: Buffer, field: readonly [number, number], value: number): void {
  const [off, len] = field;
  let v = value >= 0 && value < 8 ** (len - 1) ? value : 0;
  for (let i = off + len - 2; i >= off; i--) {
    block[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  block[off + len - 1] = 0;
}

function setFormatUstar(block: Buffer): void {
  block.write('ustar\0', MAGIC[0], 'latin1');
  block.write('00', VERSION[0], 'latin1');
  block.fill(0x20, CHKSUM[0], CHKSUM[0] + CHKSUM[1]);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] ?? 0;
  putOctal(block, [CHKSUM[0], 7], sum);
  block[CHKSUM[0] + 7] = 0x20;
}

function isAscii(b: Buffer): boolean {
  for (const c of b) if (c >= 0x80) return false;
  return true;
}

/** Go's splitUSTARPath: a prefix (≤155) and a name (≤100) cut at a slash, if possible. */
function splitUstarPath(name: Buffer): [Buffer, Buffer] | undefined {
  let length = name.length;
  if (length <= 100 || !isAscii(name)) return undefined;
  if (length > 156) length = 156;
  else if (name[length - 1] === 0x2f) length--;
  const i = name.subarray(0, length).lastIndexOf(0x2f);
  const nlen = name.length - i - 1;
  const plen = i;
  if (i <= 0 || nlen > 100 || nlen === 0 || plen > 155) return undefined;
  return [name.subarray(0, i), name.subarray(i + 1)];
}

/** Go's toASCII: drops every non-ASCII rune (and NUL). */
function toAscii(s: string): Buffer {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x80 && c !== 0) out += ch;
  }
  return Buffer.from(out, 'latin1');
}

/** The V7+USTAR fields kit fills: uid 1000, gid 0, mtime 0, empty user and group names. */
function template(name: Buffer, h: TarEntryHeader): Buffer {
  const block = Buffer.allocUnsafe(BLOCK).fill(0); // from the shared pool: less GC per entry
  block[TYPEFLAG] = h.type === 'dir' ? 0x35 : 0x30;
  putString(block, NAME, name);
  putOctal(block, MODE, h.mode);
  putOctal(block, UID, 1000);
  putOctal(block, GID, 0);
  putOctal(block, SIZE, h.type === 'dir' ? 0 : h.size);
  putOctal(block, MTIME, 0);
  putOctal(block, DEVMAJOR, 0);
  putOctal(block, DEVMINOR, 0);
  return block;
}

/** A header with every constant field kit writes (uid 1000, gid 0, mtime 0, magic, devs). */
const CONSTANT_BLOCK = ((): Buffer => {
  const b = Buffer.alloc(BLOCK);
  putOctal(b, UID, 1000);
  putOctal(b, GID, 0);
  putOctal(b, MTIME, 0);
  putOctal(b, DEVMAJOR, 0);
  putOctal(b, DEVMINOR, 0);
  b.write('ustar\0', MAGIC[0], 'latin1');
  b.write('00', VERSION[0], 'latin1');
  b.fill(0x20, CHKSUM[0], CHKSUM[0] + CHKSUM[1]);
  return b;
})();
const CONSTANT_SUM = CONSTANT_BLOCK.reduce((s, x) => s + x, 0);

/**
 * The common case written straight into `buf` at `off`: a USTAR header for an ASCII name of
 * at most 100 bytes and a size under 8 GiB. Returns false (writing nothing) otherwise, and
 * the caller uses {@link encodeHeader}. Same bytes, without allocating.
 */
export function writeSimpleHeader(buf: Buffer, off: number, h: TarEntryHeader): boolean {
  const name = h.name;
  const size = h.type === 'dir' ? 0 : h.size;
  if (name.length > 100 || size > MAX_OCTAL_SIZE || h.mode > 0o7777777) return false;
  let sum = CONSTANT_SUM;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80 || c === 0) return false;
    sum += c;
  }
  CONSTANT_BLOCK.copy(buf, off);
  buf.write(name, off, 'latin1');
  sum += writeOctalSum(buf, off + MODE[0], MODE[1], h.mode);
  sum += writeOctalSum(buf, off + SIZE[0], SIZE[1], size);
  const flag = h.type === 'dir' ? 0x35 : 0x30;
  buf[off + TYPEFLAG] = flag;
  sum += flag;
  writeOctalSum(buf, off + CHKSUM[0], 7, sum);
  buf[off + CHKSUM[0] + 7] = 0x20;
  return true;
}

/** putOctal at an absolute offset; returns the byte sum of what it wrote. */
function writeOctalSum(buf: Buffer, off: number, len: number, value: number): number {
  let v = value;
  let sum = 0;
  for (let i = off + len - 2; i >= off; i--) {
    const d = 0x30 + (v % 8);
    buf[i] = d;
    sum += d;
    v = Math.floor(v / 8);
  }
  buf[off + len - 1] = 0;
  return sum;
}

/** Go's formatPAXRecord: `<len> key=value\n`, the length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  let size = body + String(body).length;
  if (String(size).length + body !== size) size = String(size).length + body;
  return `${size} ${key}=${value}\n`;
}

/**
 * The header blocks Go's tar.Writer emits for one entry: one USTAR block, or a PAX `x` entry
 * (header + records, padded) followed by the main header, when USTAR cannot hold the name or
 * the size.
 */
export function encodeHeader(h: TarEntryHeader): Buffer {
  const name = Buffer.from(h.name, 'utf8');
  const pax: [string, string][] = [];
  let ustarName: Buffer = name;
  let prefix: Buffer | undefined;
  const ascii = isAscii(name);
  if (!ascii || name.length > 100) {
    const split = splitUstarPath(name);
    if (split === undefined) pax.push(['path', h.name]);
    else [prefix, ustarName] = split;
  }
  const size = h.type === 'dir' ? 0 : h.size;
  if (size > MAX_OCTAL_SIZE) pax.push(['size', String(size)]);
  if (pax.length === 0) {
    const block = template(ustarName, h);
    if (prefix !== undefined) putString(block, PREFIX, prefix);
    setFormatUstar(block);
    return block;
  }
  pax.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const records = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  // Name of the extended header: <dir>/PaxHeaders.0/<base>, made ASCII, cut to 100 bytes.
  const slash = h.name.lastIndexOf('/');
  const dir = slash < 0 ? '' : h.name.slice(0, slash + 1);
  const base = h.name.slice(slash + 1);
  let paxName = toAscii(goPathJoin(dir, 'PaxHeaders.0', base));
  if (paxName.length > 100) paxName = paxName.subarray(0, 100);
  let end = paxName.length;
  while (end > 0 && paxName[end - 1] === 0x2f) end--;
  paxName = paxName.subarray(0, end);
  const xh = Buffer.alloc(BLOCK);
  xh[TYPEFLAG] = 0x78;
  putString(xh, NAME, paxName);
  putOctal(xh, MODE, 0);
  putOctal(xh, UID, 0);
  putOctal(xh, GID, 0);
  putOctal(xh, SIZE, records.length);
  putOctal(xh, MTIME, 0);
  setFormatUstar(xh);
  const main = template(toAscii(h.name), h);
  setFormatUstar(main);
  return Buffer.concat([xh, records, Buffer.alloc(padding(records.length)), main]);
}

/** Go's path.Join for the three parts above (the name is already clean). */
function goPathJoin(dir: string, mid: string, base: string): string {
  const d = dir.replace(/\/+$/, '');
  return [d, mid, base].filter((s) => s !== '').join('/');
}

/** Zero bytes that round `size` up to a whole block. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** The end of an archive as Go writes it: two zero blocks, no record padding. */
export const TRAILER = Buffer.alloc(2 * BLOCK);

// ---------------------------------------------------------------------------------------------
// Decoding, for unpack.

export interface RawHeader {
  name: string;
  /** the raw typeflag character ('\0' is read as '0') */
  typeflag: string;
  mode: number;
  size: number;
  linkname: string;
}

function readString(block: Buffer, [off, len]: readonly [number, number]): Buffer {
  const field = block.subarray(off, off + len);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

function readNumber(block: Buffer, [off, len]: readonly [number, number]): number | undefined {
  const field = block.subarray(off, off + len);
  if ((field[0] ?? 0) & 0x80) {
    // base-256 (GNU): big-endian, high bit set; accept only non-negative values we can hold
    if (field[0] === 0xff) return undefined;
    let v = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (field[i] ?? 0);
    return Number.isSafeInteger(v) ? v : undefined;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

/** True for an all-zero block (the end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/** Decodes one header block; undefined when its checksum or numbers are invalid. */
export function decodeHeader(block: Buffer): RawHeader | undefined {
  const stored = readNumber(block, CHKSUM);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= CHKSUM[0] && i < CHKSUM[0] + CHKSUM[1] ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  if (stored === undefined || (stored !== unsigned && stored !== signed)) return undefined;
  const mode = readNumber(block, MODE);
  const size = readNumber(block, SIZE);
  if (mode === undefined || size === undefined) return undefined;
  let name = readString(block, NAME);
  const magic = block.subarray(MAGIC[0], MAGIC[0] + 6).toString('latin1');
  if (magic.startsWith('ustar')) {
    const prefix = readString(block, PREFIX);
    if (prefix.length > 0 && magic === 'ustar\0')
      name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  const flag = String.fromCharCode(block[TYPEFLAG] ?? 0);
  return {
    name: name.toString('utf8'),
    typeflag: flag === '\0' ? '0' : flag,
    mode: mode & 0o7777,
    size,
    linkname: readString(block, [157, 100]).toString('utf8'),
  };
}

/** Parses PAX records (`<len> key=value\n`…); undefined when malformed. */
export function parsePaxRecords(data: Buffer): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) return undefined;
    const len = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) return undefined;
    const rec = data.subarray(space + 1, pos + len);
    if (rec[rec.length - 1] !== 0x0a) return undefined;
    const eq = rec.indexOf(0x3d);
    if (eq < 0) return undefined;
    out.set(
      rec.subarray(0, eq).toString('utf8'),
      rec.subarray(eq + 1, rec.length - 1).toString('utf8'),
    );
    pos += len;
  }
  return out;
}
