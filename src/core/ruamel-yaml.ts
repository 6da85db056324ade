/**
 * A YAML writer that reproduces ruamel.yaml's round-trip dump byte for byte, as DVC writes
 * `.dvc` files and dvc.lock:
 *
 * ```python
 * yaml = ruamel.yaml.YAML()          # typ='rt'
 * yaml.default_flow_style = False
 * yaml.dump(data, stream)
 * ```
 *
 * It is a port of the parts of ruamel.yaml 0.17.21 that such a dump goes through: the
 * round-trip representer (how None, bool, int and float print), the YAML 1.2 implicit resolver
 * (which strings would read back as another type and so must be quoted), and the emitter's
 * block-style state machine (`expect_block_*`, `write_indent`, `analyze_scalar`,
 * `choose_scalar_style`, and the plain / single-quoted / double-quoted writers, including how
 * they fold at a single space once the column passes 80). Columns are counted in code points,
 * as Python's `len` does.
 *
 * Not reproduced: anchors and aliases (ruamel emits `&id001` when the same Python list or dict
 * object occurs twice; JS callers always build fresh values), comments, and styles that only a
 * loaded ruamel document carries (`ScalarFloat` widths, literal blocks and so on).
 *
 * JS objects list integer-like keys ("10") before the others whatever order they were set in;
 * pass a `Map` when such keys occur and their order matters, or when a key is not a string.
 */
import { pythonFloatRepr } from './python-json.js';

/** A number that must print as a float (`1.0`), as Python would keep it. */
export class YamlFloat {
  constructor(readonly value: number) {}
}

/** Values allowed as mapping keys (in a `Map`); plain objects have string keys. */
export type YamlScalar = null | boolean | number | bigint | string | YamlFloat;

/**
 * JS numbers that are whole print as Python ints; wrap them in {@link YamlFloat} for a float.
 * `bigint` prints as an int of any size.
 */
export type YamlValue =
  | YamlScalar
  | readonly YamlValue[]
  | ReadonlyMap<YamlScalar, YamlValue>
  | { readonly [key: string]: YamlValue };

export function dumpYaml(value: YamlValue): string {
  const emitter = new Emitter();
  emitter.emitDocument(represent(value, true));
  return emitter.output();
}

/**
 * One string scalar as ruamel writes it in block context: the style it picks (plain,
 * single-quoted or double-quoted) and its folding. `column` is where the scalar starts (after
 * any separating space) and `indent` the indentation of its continuation lines, which for a
 * mapping value is the key's indentation plus 2.
 */
export function stringScalar(s: string, indent: number, column: number): string {
  const emitter = new Emitter();
  return emitter.emitLoneScalar(representScalar(s, false), indent, column);
}

// ---------------------------------------------------------------------------------------------
// Representer and resolver

const TAG_PREFIX = 'tag:yaml.org,2002:';
const STR = `${TAG_PREFIX}str`;
const NULL = `${TAG_PREFIX}null`;
const BOOL = `${TAG_PREFIX}bool`;
const INT = `${TAG_PREFIX}int`;
const FLOAT = `${TAG_PREFIX}float`;

interface ScalarNode {
  readonly kind: 'scalar';
  readonly tag: string;
  value: string;
  /** As the serializer computes it: plain reads back as tag, quoted reads back as tag. */
  readonly implicit: readonly [boolean, boolean, boolean];
}
interface SequenceNode {
  readonly kind: 'seq';
  readonly items: readonly Node[];
}
interface MappingNode {
  readonly kind: 'map';
  readonly pairs: readonly (readonly [ScalarNode, Node])[];
}
type Node = ScalarNode | SequenceNode | MappingNode;

function isYamlScalar(v: YamlValue): v is YamlScalar {
  return v === null || typeof v !== 'object' || v instanceof YamlFloat;
}

/** RoundTripRepresenter: `root` is true only for the document's own top-level value. */
function represent(value: YamlValue, root: boolean): Node {
  if (isYamlScalar(value)) return representScalar(value, root);
  if (Array.isArray(value)) {
    return { kind: 'seq', items: (value as readonly YamlValue[]).map((v) => represent(v, false)) };
  }
  const entries: [YamlScalar, YamlValue][] =
    value instanceof Map
      ? [...(value as ReadonlyMap<YamlScalar, YamlValue>)]
      : Object.entries(value as { readonly [key: string]: YamlValue });
  return {
    kind: 'map',
    pairs: entries.map(([k, v]) => [representScalar(k, false), represent(v, false)] as const),
  };
}

function representScalar(value: YamlScalar, root: boolean): ScalarNode {
  if (value === null) {
    // RoundTripRepresenter.represent_none: "null" only for a lone top-level None.
    return scalarNode(NULL, root ? 'null' : '');
  }
  if (typeof value === 'boolean') return scalarNode(BOOL, value ? 'true' : 'false');
  if (typeof value === 'bigint') return scalarNode(INT, value.toString());
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? scalarNode(INT, BigInt(value).toString())
      : scalarNode(FLOAT, floatText(value));
  }
  if (typeof value === 'string') return scalarNode(STR, value);
  return scalarNode(FLOAT, floatText(value.value));
}

/** SafeRepresenter.represent_float (YAML 1.2: no ".0" is inserted into "1e+16"). */
function floatText(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  return pythonFloatRepr(n).toLowerCase();
}

function scalarNode(tag: string, value: string): ScalarNode {
  return { kind: 'scalar', tag, value, implicit: [tag === resolve(value), tag === STR, true] };
}

// The YAML 1.2 implicit resolvers of ruamel's VersionedResolver, in registration order, with
// the first characters each is registered under. Python's `$` also matches before a final
// newline, hence `\n?$`.
const RESOLVERS: readonly (readonly [string, RegExp, string])[] = [
  [BOOL, /^(?:true|True|TRUE|false|False|FALSE)\n?$/, 'tTfF'],
  [
    FLOAT,
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?$/,
    '-+0123456789.',
  ],
  [
    INT,
    /^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)\n?$/,
    '-+0123456789',
  ],
  [`${TAG_PREFIX}merge`, /^(?:<<)\n?$/, '<'],
  [NULL, /^(?:~|null|Null|NULL|)\n?$/, '~nN'],
  [
    `${TAG_PREFIX}timestamp`,
    /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\n?$/,
    '0123456789',
  ],
  [`${TAG_PREFIX}value`, /^(?:=)\n?$/, '='],
  [`${TAG_PREFIX}yaml`, /^(?:!|&|\*)\n?$/, '!&*'],
];

/** The tag a plain scalar with this text reads back as. */
function resolve(value: string): string {
  if (value === '') return NULL; // only the null resolver is registered under ''
  const first = String.fromCodePoint(value.codePointAt(0) ?? 0);
  for (const [tag, re, firsts] of RESOLVERS) {
    if (firsts.includes(first) && re.test(value)) return tag;
  }
  return STR;
}

/** Emitter.prepare_tag for the yaml.org tags: `!!str`, `!!int`, ... */
function prepareTag(tag: string): string {
  return tag.startsWith(TAG_PREFIX) ? `!!${tag.slice(TAG_PREFIX.length)}` : `!<${tag}>`;
}

// ---------------------------------------------------------------------------------------------
// Emitter

const BEST_WIDTH = 80;
const BEST_INDENT = 2;
const MAX_SIMPLE_KEY_LENGTH = 128;
const LINE_BREAKS = '\n\x85\u2028\u2029';
const SPACE_OR_BREAK = ` ${LINE_BREAKS}`;
const WHITESPACE = `\0 \t\r${LINE_BREAKS}`;

const ESCAPE_REPLACEMENTS: Readonly<Record<string, string>> = {
  '\0': '0',
  '\x07': 'a',
  '\x08': 'b',
  '\x09': 't',
  '\x0A': 'n',
  '\x0B': 'v',
  '\x0C': 'f',
  '\x0D': 'r',
  '\x1B': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xA0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

interface Analysis {
  readonly scalar: string;
  readonly empty: boolean;
  readonly multiline: boolean;
  readonly allowFlowPlain: boolean;
  readonly allowBlockPlain: boolean;
  readonly allowSingleQuoted: boolean;
  readonly allowDoubleQuoted: boolean;
}

type Style = '' | "'" | '"';

const cp = (ch: string): number => ch.codePointAt(0) ?? 0;
/** Python's len(): code points (a lone surrogate counts as one). */
const pyLen = (s: string): number => Array.from(s).length;

/** Emitter.analyze_scalar, with allow_unicode on and YAML version unset (1.2). */
function analyzeScalar(scalar: string): Analysis {
  const chars = Array.from(scalar);
  const n = chars.length;
  if (n === 0) {
    return {
      scalar,
      empty: true,
      multiline: false,
      allowFlowPlain: false,
      allowBlockPlain: true,
      allowSingleQuoted: true,
      allowDoubleQuoted: true,
    };
  }
  let blockIndicators = false;
  let flowIndicators = false;
  let lineBreaks = false;
  let specialCharacters = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;

  if (scalar.startsWith('---') || scalar.startsWith('...')) {
    blockIndicators = true;
    flowIndicators = true;
  }
  let precededByWhitespace = true;
  let followedByWhitespace = n === 1 || WHITESPACE.includes(chars[1] ?? '');
  let previousSpace = false;
  let previousBreak = false;

  for (let index = 0; index < n;) {
    const ch = chars[index] ?? '';
    if (index === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) {
        flowIndicators = true;
        blockIndicators = true;
      }
      if (ch === '?' || ch === ':') {
        if (n === 1) flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (ch === '-' && followedByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    } else {
      if (',[]{}'.includes(ch)) flowIndicators = true;
      if (ch === ':' && followedByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
      if (ch === '#' && precededByWhitespace) {
        flowIndicators = true;
        blockIndicators = true;
      }
    }

    if (LINE_BREAKS.includes(ch)) lineBreaks = true;
    const c = cp(ch);
    if (!(ch === '\n' || (c >= 0x20 && c <= 0x7e))) {
      const unicode =
        (c === 0x85 ||
          (c >= 0xa0 && c <= 0xd7ff) ||
          (c >= 0xe000 && c <= 0xfffd) ||
          (c >= 0x10000 && c <= 0x10ffff)) &&
        c !== 0xfeff;
      if (!unicode) specialCharacters = true;
    }

    if (ch === ' ') {
      if (index === 0) leadingSpace = true;
      if (index === n - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (LINE_BREAKS.includes(ch)) {
      if (index === 0) leadingBreak = true;
      if (index === n - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }

    index += 1;
    precededByWhitespace = WHITESPACE.includes(ch);
    followedByWhitespace = index + 1 >= n || WHITESPACE.includes(chars[index + 1] ?? '');
  }

  let allowFlowPlain = true;
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) {
    allowFlowPlain = allowBlockPlain = false;
  }
  if (breakSpace) allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  if (specialCharacters || spaceBreak) {
    allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  }
  if (lineBreaks) allowFlowPlain = allowBlockPlain = false;
  if (flowIndicators) allowFlowPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return {
    scalar,
    empty: false,
    multiline: lineBreaks,
    allowFlowPlain,
    allowBlockPlain,
    allowSingleQuoted,
    allowDoubleQuoted: true,
  };
}

/**
 * ruamel.yaml's Emitter, reduced to block style (flow style is only used for empty
 * collections). Method names follow the Python ones; the event queue is replaced by walking
 * the node tree.
 */
class Emitter {
  private readonly out: string[] = [];
  private column = 0;
  private whitespace = true;
  private indention = true;
  private noNewline = false;
  private openEnded = false;
  private indent: number | null = null;
  private readonly indents: [number | null, boolean][] = [];
  private flowLevel = 0;
  private rootContext = false;
  private sequenceContext = false;
  private simpleKeyContext = false;
  private analysis: Analysis | null = null;
  private style: Style | null = null;

  output(): string {
    return this.out.join('');
  }

  emitDocument(node: Node): void {
    // An implicit document start writes nothing; the root node follows.
    this.expectNode(node, { root: true });
    // expect_document_end
    this.writeIndent();
    // StreamEndEvent
    if (this.openEnded) {
      this.writeIndicator('...', true);
      this.writeIndent();
    }
  }

  emitLoneScalar(node: ScalarNode, indent: number, column: number): string {
    this.column = column;
    this.indent = indent;
    this.indention = false;
    this.whitespace = true;
    this.processTag(node);
    this.processScalar(node);
    return this.output();
  }

  private expectNode(
    node: Node,
    ctx: { root?: boolean; sequence?: boolean; mapping?: boolean; simpleKey?: boolean },
  ): void {
    this.rootContext = ctx.root ?? false;
    this.sequenceContext = ctx.sequence ?? false;
    const mappingContext = ctx.mapping ?? false;
    this.simpleKeyContext = ctx.simpleKey ?? false;
    if (node.kind === 'scalar') {
      this.processTag(node);
      this.expectScalar(node);
    } else if (node.kind === 'seq') {
      if (this.flowLevel > 0 || node.items.length === 0) this.expectFlowCollection('[', ']');
      else this.expectBlockSequence(node, mappingContext);
    } else if (this.flowLevel > 0 || node.pairs.length === 0) {
      this.expectFlowCollection('{', '}');
    } else {
      this.expectBlockMapping(node);
    }
  }

  private expectScalar(node: ScalarNode): void {
    this.increaseIndent(true);
    this.processScalar(node);
    this.popIndent();
  }

  /** expect_flow_sequence / expect_flow_mapping for an empty collection. */
  private expectFlowCollection(open: string, close: string): void {
    const ind = this.seqFlowAlign();
    this.writeIndicator(' '.repeat(Math.max(0, ind)) + open, true, true);
    this.flowLevel += 1;
    this.increaseIndent(true, open === '[');
    // expect_first_flow_*: the end event follows at once.
    this.popIndent();
    this.flowLevel -= 1;
    this.writeIndicator(close, false);
    if (this.flowLevel === 0) this.writeLineBreak();
  }

  private seqFlowAlign(): number {
    const last = this.indents[this.indents.length - 1];
    if (this.indents.length < 2 || last === undefined || !last[1]) return 0;
    return (last[0] ?? 0) + BEST_INDENT - this.column - 1;
  }

  private expectBlockSequence(node: SequenceNode, mappingContext: boolean): void {
    // compact_seq_seq: a sequence in a sequence starts on the dash's line.
    const indentless = mappingContext && !this.indention;
    this.increaseIndent(false, true, indentless);
    for (const item of node.items) {
      const nonl = this.column === 0 ? this.noNewline : false;
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      if (nonl) this.noNewline = true;
      this.expectNode(item, { sequence: true });
    }
    this.popIndent();
    this.noNewline = false;
  }

  private expectBlockMapping(node: MappingNode): void {
    // compact_seq_map: a mapping in a sequence starts on the dash's line.
    this.increaseIndent(false, false);
    for (const [key, value] of node.pairs) {
      this.writeIndent();
      if (this.checkSimpleKey(key)) {
        this.expectNode(key, { mapping: true, simpleKey: true });
        this.writeIndicator(':', false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.expectNode(key, { mapping: true });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.expectNode(value, { mapping: true });
    }
    this.popIndent();
  }

  private checkSimpleKey(key: ScalarNode): boolean {
    this.analysis ??= analyzeScalar(key.value);
    const length = prepareTag(key.tag).length + pyLen(key.value);
    return length < MAX_SIMPLE_KEY_LENGTH && !this.analysis.multiline;
  }

  private increaseIndent(flow: boolean, sequence = false, indentless = false): void {
    this.indents.push([this.indent, sequence]);
    if (this.indent === null) {
      // Top level: a flow node takes the requested indent, which DVC leaves unset.
      this.indent = flow ? null : 0;
    } else if (!indentless) {
      this.indent += BEST_INDENT;
    }
  }

  private popIndent(): void {
    const popped = this.indents.pop();
    this.indent = popped === undefined ? null : popped[0];
  }

  private processTag(node: ScalarNode): void {
    if (this.style === null) {
      this.style = this.chooseScalarStyle(node);
      if (node.value === '' && this.style === "'" && node.tag === NULL) {
        node.value = 'null'; // alt_null: an empty null key
        this.analysis = null;
        this.style = this.chooseScalarStyle(node);
      }
    }
    if ((this.style === '' && node.implicit[0]) || (this.style !== '' && node.implicit[1])) {
      return;
    }
    this.writeIndicator(prepareTag(node.tag), true);
    if (this.sequenceContext && this.flowLevel === 0) this.noNewline = true;
  }

  private chooseScalarStyle(node: ScalarNode): Style {
    const a = (this.analysis ??= analyzeScalar(node.value));
    if (node.implicit[0] || !node.implicit[2]) {
      const plainOk = this.flowLevel > 0 ? a.allowFlowPlain : a.allowBlockPlain;
      if (!(this.simpleKeyContext && (a.empty || a.multiline)) && plainOk) return '';
    }
    if (a.allowDoubleQuoted && (node.value.includes("'") || node.value.includes('\n'))) {
      return '"';
    }
    if (a.allowSingleQuoted && !(this.simpleKeyContext && a.multiline)) return "'";
    return '"';
  }

  private processScalar(node: ScalarNode): void {
    this.analysis ??= analyzeScalar(node.value);
    this.style ??= this.chooseScalarStyle(node);
    const split = !this.simpleKeyContext;
    if (this.sequenceContext && this.flowLevel === 0) this.writeIndent();
    const text = this.analysis.scalar;
    if (this.style === '"') this.writeDoubleQuoted(text, split);
    else if (this.style === "'") this.writeSingleQuoted(text, split);
    else this.writePlain(text, split);
    this.analysis = null;
    this.style = null;
  }

  // Writers.

  private write(data: string): void {
    this.out.push(data);
  }

  private writeIndicator(
    indicator: string,
    needWhitespace: boolean,
    whitespace = false,
    indention = false,
  ): void {
    const data = this.whitespace || !needWhitespace ? indicator : ` ${indicator}`;
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.column += pyLen(data);
    this.openEnded = false;
    this.write(data);
  }

  private writeIndent(): void {
    const indent = this.indent ?? 0;
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) {
      if (this.noNewline) this.noNewline = false;
      else this.writeLineBreak();
    }
    if (this.column < indent) {
      this.whitespace = true;
      this.write(' '.repeat(indent - this.column));
      this.column = indent;
    }
  }

  private writeLineBreak(data = '\n'): void {
    this.whitespace = true;
    this.indention = true;
    this.column = 0;
    this.write(data);
  }

  /** Writes text[start:end] (code point indices) and advances the column. */
  private writeRun(chars: readonly string[], start: number, end: number): void {
    if (end <= start) return; // Python's text[start:end] is empty then
    this.column += end - start;
    this.write(chars.slice(start, end).join(''));
  }

  /** The line-break run of the plain and single-quoted writers. */
  private writeBreaks(chars: readonly string[], start: number, end: number): void {
    if (chars[start] === '\n') this.writeLineBreak();
    for (const br of chars.slice(start, end)) {
      if (br === '\n') this.writeLineBreak();
      else this.writeLineBreak(br);
    }
    this.writeIndent();
  }

  private writePlain(text: string, split: boolean): void {
    if (this.rootContext) this.openEnded = true;
    if (text === '') return;
    if (!this.whitespace) {
      this.column += 1;
      this.write(' ');
    }
    this.whitespace = false;
    this.indention = false;
    const chars = Array.from(text);
    const n = chars.length;
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= n; end++) {
      const ch = end < n ? (chars[end] ?? null) : null;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split) {
            this.writeIndent();
            this.whitespace = false;
            this.indention = false;
          } else {
            this.writeRun(chars, start, end);
          }
          start = end;
        }
      } else if (breaks) {
        if (ch === null || !LINE_BREAKS.includes(ch)) {
          this.writeBreaks(chars, start, end);
          this.whitespace = false;
          this.indention = false;
          start = end;
        }
      } else if (ch === null || SPACE_OR_BREAK.includes(ch)) {
        this.writeRun(chars, start, end);
        start = end;
      }
      if (ch !== null) {
        spaces = ch === ' ';
        breaks = LINE_BREAKS.includes(ch);
      }
    }
  }

  private writeSingleQuoted(text: string, split: boolean): void {
    this.writeIndicator("'", true);
    const chars = Array.from(text);
    const n = chars.length;
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= n; end++) {
      const ch = end < n ? (chars[end] ?? null) : null;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split && start !== 0 && end !== n) {
            this.writeIndent();
          } else {
            this.writeRun(chars, start, end);
          }
          start = end;
        }
      } else if (breaks) {
        if (ch === null || !LINE_BREAKS.includes(ch)) {
          this.writeBreaks(chars, start, end);
          start = end;
        }
      } else if (ch === null || SPACE_OR_BREAK.includes(ch) || ch === "'") {
        if (start < end) {
          this.writeRun(chars, start, end);
          start = end;
        }
      }
      if (ch === "'") {
        this.column += 2;
        this.write("''");
        start = end + 1;
      }
      if (ch !== null) {
        spaces = ch === ' ';
        breaks = LINE_BREAKS.includes(ch);
      }
    }
    this.writeIndicator("'", false);
  }

  private writeDoubleQuoted(text: string, split: boolean): void {
    this.writeIndicator('"', true);
    const chars = Array.from(text);
    const n = chars.length;
    let start = 0;
    for (let end = 0; end <= n; end++) {
      const ch = end < n ? (chars[end] ?? null) : null;
      if (ch === null || mustEscape(ch)) {
        if (start < end) {
          this.writeRun(chars, start, end);
          start = end;
        }
        if (ch !== null) {
          const data = escapeChar(ch);
          this.column += data.length;
          this.write(data);
          start = end + 1;
        }
      }
      if (
        end > 0 &&
        end < n - 1 &&
        (ch === ' ' || start >= end) &&
        this.column + (end - start) > BEST_WIDTH &&
        split
      ) {
        this.writeRun(chars, start, end);
        this.column += 1;
        this.write('\\');
        if (start < end) start = end;
        this.writeIndent();
        this.whitespace = false;
        this.indention = false;
        if (chars[start] === ' ') {
          this.column += 1;
          this.write('\\');
        }
      }
    }
    this.writeIndicator('"', false);
  }
}

function mustEscape(ch: string): boolean {
  if ('"\\\x85\u2028\u2029\uFEFF'.includes(ch)) return true;
  const c = cp(ch);
  return !((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd));
}

function escapeChar(ch: string): string {
  const short = ESCAPE_REPLACEMENTS[ch];
  if (short !== undefined) return `\\${short}`;
  const c = cp(ch);
  const hex = c.toString(16).toUpperCase();
  if (c <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (c <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\U${hex.padStart(8, '0')}`;
}
