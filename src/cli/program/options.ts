/** Option parsers and options that several command groups declare the same way. */
import { InvalidArgumentError, Option } from 'commander';
import { positiveInteger } from '../registry-flags.js';

/** A port: 0 (any free one) to 65535. */
export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('0 to 65535');
  return n;
}

/** A repeatable option's values, in the order given. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const kitopsOption = (): Option =>
  new Option('--kitops', "use kit's local store ($KITOPS_HOME/storage) instead of Cairn's");

/** `--push`: the GitOps commands push the commit they make. */
export const pushOption = (): Option =>
  new Option('--push', "push the commit to the branch's upstream");

/** `--precision <n>` (default 5); `what` says which digits. */
export const precisionOption = (what: string): Option =>
  new Option('--precision <n>', what).argParser(positiveInteger).default(5);

/** `--md`: tables as Markdown. */
export const markdownOption = (): Option => new Option('--md', 'a Markdown table');
