import * as os from 'node:os';
import * as vscode from 'vscode';
import { expandHome } from './text';

export const SECTION = 'deepfim';

/** The settings the server understands (README "Settings"), as the extension reads them. */
export interface ServerSettings {
  /** Absent when the setting is empty. */
  model?: string;
  maxTokens: number;
  contextSize: number;
  threads: number | null;
  timeBudgetMs: number;
  enabled: boolean;
  logText: boolean;
  lineInPrefix: boolean;
  contextBeforeBos: boolean;
  engine: string | null;
  engineApi: string | null;
  engineModel: string | null;
  instructModel: string | null;
  instructEngine: string | null;
  instructEngineApi: string | null;
  gpuLayers: number | null;
  flashAttention: string;
  kvCacheType: string;
  lookupDecoding: boolean;
  installedPackages: boolean;
  singleLine: boolean;
  firstAnswerMs: number;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function config(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION, scope);
}

export function serverCommand(): string[] {
  const value = config().get<unknown>('serverCommand');
  if (Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string') && value[0]) {
    const [program, ...rest] = value as string[];
    return [expandHome(program, os.homedir()), ...rest];
  }
  return ['deepfim', 'serve'];
}

function positiveInt(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

export function serverSettings(): ServerSettings {
  const c = config();
  const model = (c.get<string>('model') ?? '').trim();
  const threads = c.get<number>('threads') ?? 0;
  return {
    ...(model ? { model } : {}),
    maxTokens: positiveInt(c.get('maxTokens'), 128),
    contextSize: positiveInt(c.get('contextSize'), 16384),
    threads: Number.isInteger(threads) && threads > 0 ? threads : null,
    timeBudgetMs: positiveInt(c.get('timeBudgetMs'), 4000),
    enabled: c.get<boolean>('enable') !== false,
    logText: c.get<boolean>('logText') === true,
    lineInPrefix: c.get<boolean>('lineInPrefix') === true,
    contextBeforeBos: c.get<boolean>('contextBeforeBos') === true,
    engine: text(c.get('engine')) ?? null,
    engineApi: text(c.get('engineApi')) ?? null,
    engineModel: text(c.get('engineModel')) ?? null,
    instructModel: text(c.get('instructModel')) ?? null,
    instructEngine: text(c.get('instructEngine')) ?? null,
    instructEngineApi: text(c.get('instructEngineApi')) ?? null,
    gpuLayers: Number.isInteger(c.get('gpuLayers')) ? (c.get('gpuLayers') as number) : null,
    flashAttention: text(c.get('flashAttention')) ?? 'auto',
    kvCacheType: text(c.get('kvCacheType')) ?? 'f16',
    lookupDecoding: c.get<boolean>('lookupDecoding') !== false,
    installedPackages: c.get<boolean>('installedPackages') !== false,
    singleLine: c.get<boolean>('singleLine') === true,
    firstAnswerMs: Number.isInteger(c.get('firstAnswerMs')) && (c.get('firstAnswerMs') as number) >= 0
      ? (c.get('firstAnswerMs') as number) : 1000,
  };
}

/** The settings as sent in initializationOptions and workspace/didChangeConfiguration: null for each one
 *  set nowhere (not in the user's, the workspace's or a folder's settings), which the server takes as
 *  the value `deepfim serve` was started with (a `--model` or `--set` in deepfim.serverCommand, or
 *  $DEEPFIM_MODEL), else its default. */
export function sentSettings(): { [K in keyof ServerSettings]-?: ServerSettings[K] | null } {
  const c = config();
  const settings = serverSettings();
  const sent = { ...settings, model: settings.model ?? null };
  for (const key of Object.keys(sent) as (keyof typeof sent)[]) {
    const inspected = c.inspect(key === 'enabled' ? 'enable' : key);
    if ([inspected?.globalValue, inspected?.workspaceValue, inspected?.workspaceFolderValue]
      .every((value) => value === undefined)) {
      sent[key] = null as never;
    }
  }
  return sent;
}

/** Whether completions are wanted in `document`: the global switch, `deepfim.enable` of its folder (a
 *  multi-root workspace's folder settings) and of a `[lang]` override, and `deepfim.disabledLanguages`. */
export function enabledForLanguage(document: { uri: vscode.Uri; languageId: string }): boolean {
  if (!serverSettings().enabled) {
    return false;
  }
  const { languageId } = document;
  const c = config({ uri: document.uri, languageId });
  if (c.get<boolean>('enable') === false) {
    return false;
  }
  const disabled = c.get<unknown>('disabledLanguages');
  return !(Array.isArray(disabled) && disabled.includes(languageId));
}

export function showInSuggestWidget(): boolean {
  return config().get<boolean>('showInSuggestWidget') === true;
}

/** The CLI part of the server command: everything before `serve` (`deepfim`, or
 *  `python -m server.cli`), for `models pull` and `models list`. */
export function cliCommand(): string[] {
  const command = serverCommand();
  const serve = command.indexOf('serve');
  return serve > 0 ? command.slice(0, serve) : [command[0]];
}

/** Where to write a setting so that the new value takes effect: where its effective value comes from (a
 * folder's or the workspace's settings override the user's), else the user's settings. */
export function effectiveTarget(key: string): vscode.ConfigurationTarget {
  const inspected = config().inspect(key);
  return inspected?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
    : inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}
