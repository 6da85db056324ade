/** `cairn config get|set|unset|list`. */
import path from 'node:path';
import {
  configPath,
  configKeys,
  formatConfigValue,
  keySpec,
  KEYS,
  loadConfig,
  setConfigValue,
  type ConfigLevel,
  type ConfigSource,
} from '../core/config.js';
import { CairnError } from '../core/errors.js';
import { CAIRN_DIR, findRoot } from '../core/repo.js';
import type { CommandContext } from './context.js';

function cairnDirOf(ctx: CommandContext): string | undefined {
  const root = findRoot(ctx.cwd);
  return root === undefined ? undefined : path.join(root, CAIRN_DIR);
}

export interface ConfigEntry {
  key: string;
  value: string;
  level: ConfigSource['level'];
  origin: string;
}

export async function configList(ctx: CommandContext): Promise<ConfigEntry[]> {
  const { config, origins } = await loadConfig(cairnDirOf(ctx), ctx);
  return configKeys(config).flatMap((key) => {
    const value = formatConfigValue(key, config);
    if (value === undefined) return [];
    const source = origins.get(key) ?? { level: 'default' as const, origin: 'built-in default' };
    return [{ key, value, level: source.level, origin: source.origin }];
  });
}

export async function configGet(ctx: CommandContext, key: string): Promise<ConfigEntry> {
  if (keySpec(key) === undefined) {
    throw new CairnError('config-unknown-key', `Unknown configuration key '${key}'`, {
      hint: `Known keys: ${Object.keys(KEYS).join(', ')}, remote.<name>.`,
    });
  }
  const entry = (await configList(ctx)).find((e) => e.key === key);
  if (entry === undefined) {
    throw new CairnError('config-unset', `${key} is not set`, {
      hint: `Set it with \`cairn config set ${key} <value>\`.`,
    });
  }
  return entry;
}

export async function configSet(
  ctx: CommandContext,
  level: ConfigLevel,
  key: string,
  value: string | undefined,
): Promise<string> {
  const file = configPath(level, cairnDirOf(ctx), ctx.env);
  await setConfigValue(file, key, value);
  // Re-read every layer: a value that parses alone must also make a valid whole.
  await loadConfig(cairnDirOf(ctx), ctx);
  return file;
}
