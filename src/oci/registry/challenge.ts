/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1): several challenges in one header, quoted
 * parameter values with commas and escapes inside, case-insensitive scheme and parameter names.
 */

/** One challenge: `scheme` lower-cased, parameter names lower-cased, values unquoted. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Every challenge in the header, in order; malformed tails are dropped, never thrown. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < header.length && chars.test(header.charAt(i))) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < header.length && TOKEN.test(header.charAt(i))) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    let value = '';
    i++; // the opening quote
    while (i < header.length && header.charAt(i) !== '"') {
      if (header.charAt(i) === '\\' && i + 1 < header.length) i++;
      value += header.charAt(i);
      i++;
    }
    i++; // the closing quote
    return value;
  };
  /** An unquoted value; lenient past RFC tokens, since some servers leave URLs unquoted. */
  const bare = (): string => {
    const start = i;
    while (i < header.length && !/[\s,]/.test(header.charAt(i))) i++;
    return header.slice(start, i);
  };
  /** True when a `name=` parameter (not a new scheme or token68) starts at i. */
  const paramAhead = (): boolean => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=(?!=)/.exec(header.slice(i));
    return m !== null;
  };

  while (i < header.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') {
      i++; // not a token: step over it rather than loop forever
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skip(/[ \t]/);
    if (!paramAhead()) {
      // token68 (`Basic abc==`) or nothing: keep nothing, move to the next comma.
      while (i < header.length && header.charAt(i) !== ',') i++;
      continue;
    }
    for (;;) {
      skip(/[ \t]/);
      if (!paramAhead()) break;
      const name = token().toLowerCase();
      skip(/[ \t]/);
      i++; // '='
      skip(/[ \t]/);
      challenge.params[name] = header.charAt(i) === '"' ? quoted() : bare();
      skip(/[ \t]/);
      if (header.charAt(i) !== ',') break;
      const afterComma = i + 1;
      i = afterComma;
      skip(/[\s,]/);
      if (!paramAhead()) {
        i = afterComma; // a new challenge starts here
        break;
      }
    }
  }
  return out;
}
