// Pure text functions (no vscode import), unit-tested by `npm test` (test/text.test.ts).

/** The `deepfim/explain` result (as `deepfim complete --json` prints it). */
export interface Explanation {
  completion: string;
  model: string;
  prompt: {
    token_ids: number[];
    segments: { kind: string; source: string | null; tokens: number; text: string }[];
  };
  timings: Record<string, number>;
}

/** Progress in `deepfim models pull`'s bar: `\r[####....]  12.3/874.0 MB` (or `12.3 MB` without a size). */
export function parseProgress(chunk: string): { done: number; total?: number } | undefined {
  const pieces = chunk.split(/[\r\n]/).filter((piece) => piece.trim());
  for (let i = pieces.length - 1; i >= 0; i--) {
    const sized = /([\d.]+)\s*\/\s*([\d.]+)\s*MB/.exec(pieces[i]);
    if (sized) {
      return { done: parseFloat(sized[1]), total: parseFloat(sized[2]) };
    }
    const bare = /^\s*([\d.]+)\s*MB\s*$/.exec(pieces[i]);
    if (bare) {
      return { done: parseFloat(bare[1]) };
    }
  }
  return undefined;
}

/** Catalog names from `deepfim models list` (lines like `* deepseek-coder-1.3b-base:Q4_K_M  1.3B ...`). */
export function parseCatalog(listing: string): { name: string; isDefault: boolean; detail: string }[] {
  const models: { name: string; isDefault: boolean; detail: string }[] = [];
  for (const line of listing.split('\n')) {
    const match = /^([* ]) (\S+:\S+)\s+(.*)$/.exec(line);
    if (match) {
      models.push({ name: match[2], isDefault: match[1] === '*', detail: match[3].trim() });
    }
  }
  return models;
}

/** The model a server message asks to pull: "... run `deepfim models pull NAME` ...". */
export function pullSuggestion(message: string): string | undefined {
  return /deepfim models pull ([^\s`]+)/.exec(message)?.[1];
}

/** The setting a pulled catalog model is for (`instructModel` for an instruct model such as
 *  `deepseek-coder-1.3b-instruct`, else `model`) and whether that setting already asks for it: it names the
 *  model (a name without `:QUANT` names its default quantization), or it is empty and `fallback` (the model
 *  the server loads then) is this one. */
export function pulledModelUse(name: string, settings: { model?: string | null; instructModel?: string | null },
  fallback?: string): { setting: 'model' | 'instructModel'; inUse: boolean } {
  const setting = /-instruct(:|$)/i.test(name) ? 'instructModel' : 'model';
  const names = (wanted: string): boolean => name === wanted || name.startsWith(`${wanted}:`);
  const configured = settings[setting]?.trim();
  const inUse = configured ? names(configured) : setting === 'model' && fallback !== undefined && names(fallback);
  return { setting, inUse };
}

/** A fence that no backtick run inside `text` can close. */
function fence(text: string, language = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return `${ticks}${language}\n${body}${ticks}\n`;
}

const TIMING_LABELS: [string, string][] = [
  ['prompt_tokens_evaluated', 'prompt tokens evaluated'],
  ['prompt_tokens_reused', 'prompt tokens reused (KV cache)'],
  ['generated_tokens', 'tokens generated'],
  ['prompt_ms', 'prompt time (ms)'],
  ['generate_ms', 'generation time (ms)'],
  ['total_ms', 'total time (ms)'],
];

/** Markdown for one explanation: completion, timings, then the prompt segment by segment. */
export function render(explanation: Explanation | null, document: { uri: string; languageId: string }): string {
  const name = decodeURIComponent(document.uri.replace(/^.*\//, ''));
  if (!explanation) {
    return `# deepfim: last prompt for ${name}\n\nNo completion has been served for this file yet. ` +
      'Type in it (or run "deepfim: Trigger Completion") and run this command again.\n';
  }
  const out: string[] = [];
  const segments = explanation.prompt?.segments ?? [];
  const total = explanation.prompt?.token_ids?.length ?? segments.reduce((sum, s) => sum + s.tokens, 0);
  out.push(`# deepfim: last prompt for ${name}\n`);
  out.push(`Model: \`${explanation.model}\` · prompt: ${total} tokens in ${segments.length} segments\n`);
  out.push('## Completion\n');
  out.push(explanation.completion ? fence(explanation.completion, document.languageId) : '*(empty)*\n');
  out.push('## Timings\n');
  out.push('| | |\n|---|---:|');
  const timings = explanation.timings ?? {};
  for (const [key, label] of TIMING_LABELS) {
    if (key in timings) {
      out.push(`| ${label} | ${timings[key]} |`);
    }
  }
  for (const key of Object.keys(timings)) {
    if (!TIMING_LABELS.some(([known]) => known === key)) {
      out.push(`| ${key} | ${timings[key]} |`);
    }
  }
  out.push('\n## Prompt\n');
  out.push('Segments in prompt order. `control` segments are special tokens (shown as their text); ' +
    '`context` segments come from other files of the workspace.\n');
  segments.forEach((segment, index) => {
    const source = segment.source ? ` · \`${segment.source}\`` : '';
    out.push(`### ${index + 1}. ${segment.kind}${source} · ${segment.tokens} token${segment.tokens === 1 ? '' : 's'}\n`);
    const language = segment.kind === 'control' ? 'text' : segment.kind === 'context' ? '' : document.languageId;
    out.push(fence(segment.text, language));
  });
  return out.join('\n');
}

/** `path` with a leading `~` (alone, or before a slash) as the `home` folder: the server is started
 *  without a shell, which would have expanded it. */
export function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') || path.startsWith('~\\') ? home + path.slice(1) : path;
}

// ---------------------------------------------------------------- the server's hints in VS Code terms

/** The extension's own setting names, without `deepfim.` (from package.json's configuration). */
export function settingNames(manifest: unknown): Set<string> {
  const properties = (manifest as { contributes?: { configuration?: { properties?: object } } })
    ?.contributes?.configuration?.properties ?? {};
  return new Set(Object.keys(properties).filter((key) => key.startsWith('deepfim.')).map((key) => key.slice('deepfim.'.length)));
}

/** A server message in VS Code's terms, and the settings it names (`deepfim.model`, ...). */
export interface Hinted {
  message: string;
  settings: string[];
}

/** Rewrite the server's command-line and settings-key hints into VS Code settings: "pass --model
 *  /p.gguf" -> 'set "deepfim.model" to /p.gguf', "set contextSize lower" -> 'set "deepfim.contextSize"
 *  lower', "point --model at" -> 'point "deepfim.model" at', "setting maxTokens: ..." -> 'setting
 *  "deepfim.maxTokens": ...'. Only keys and flags that name one of `known` (setting names without
 *  `deepfim.`) are rewritten; anything else (`--workspace`, `deepfim models pull`) stays. */
export function inVSCodeTerms(message: string, known: ReadonlySet<string>): Hinted {
  const settings: string[] = [];
  const setting = (key: string): string | undefined => {
    const name = key === 'enabled' ? 'enable' : key;
    if (!known.has(name)) {
      return undefined;
    }
    if (!settings.includes(`deepfim.${name}`)) {
      settings.push(`deepfim.${name}`);
    }
    return `"deepfim.${name}"`;
  };
  const flag = (dashed: string): string | undefined =>
    setting(dashed.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()));
  const text = message
    // "pass --model with the path of ..." / "pass --model /path/to/a.gguf" / "pass --model"
    .replace(/\bpass --([a-z][a-z-]*)( with\b| (?!or\b|and\b)[^\s;,)]+)?/g, (whole, dashed: string, rest?: string) => {
      const name = flag(dashed);
      if (!name) {
        return whole;
      }
      return rest === undefined ? `set ${name}` : rest === ' with' ? `set ${name} to` : `set ${name} to${rest}`;
    })
    // "set model", "set the model to ...", "set contextSize to 4096", "set engineApi to ..."
    .replace(/\bset (the )?`?([a-z][A-Za-z]*)`?(?![\w-])/g, (whole, _the, key: string) => {
      const name = setting(key);
      return name ? `set ${name}` : whole;
    })
    // "setting contextSize: 100 is not accepted" (the server's warning for a refused value)
    .replace(/\bsetting `?([a-z][A-Za-z]*)`?:/g, (whole, key: string) => {
      const name = setting(key);
      return name ? `setting ${name}:` : whole;
    })
    // any other flag: "point --model at a .gguf file"
    .replace(/(^|[\s(])--([a-z][a-z-]*)\b/g, (whole, before: string, dashed: string) => {
      const name = flag(dashed);
      return name ? `${before}${name}` : whole;
    });
  return { message: text, settings };
}

/** The notification for a failed `deepfim models pull NAME` from the last line it wrote, in VS Code's terms:
 *  without the CLI's own "deepfim: ", and "run deepfim with --model PATH" as the setting to set. */
export function pullFailed(name: string, line: string, known: ReadonlySet<string>): Hinted {
  const reason = line.replace(/^deepfim:\s*/, '').replace(/\brun deepfim with --/g, 'pass --');
  const hinted = inVSCodeTerms(reason, known);
  return { message: `deepfim: pulling ${name} failed: ${hinted.message}`, settings: hinted.settings };
}

// ---------------------------------------------------------------- the status bar

/** `true` when a ready message says the model is prefix-only ("... (prefix-only template, ...)"),
 *  `false` when it names another template, `undefined` when it says nothing about it. */
export function prefixOnly(message: string): boolean | undefined {
  const template = /\(([^\s(),]+) template\b/.exec(message);
  return template ? template[1] === 'prefix-only' : undefined;
}

/** What the status bar item says; `state` and `message` as in `deepfim/status`. */
export interface StatusInput {
  state: string;
  message: string;
  percentage?: number;
  /** The model's name (the last `model` the server sent). */
  model?: string;
  prefixOnly?: boolean;
  /** A completion request is in flight. */
  working?: boolean;
  /** Completions are off: everywhere (`true`) or for this language (its id). */
  off?: true | string;
}

/** The item's text (with $(icon) codicons) and its tooltip, for each state: loading and reading
 *  with their percentage where there is one, ready (model name, prefix-only), working, disabled, error. */
export function statusText(s: StatusInput): { text: string; tooltip: string } {
  const model = s.model ?? 'deepfim';
  const percent = typeof s.percentage !== 'number' ? '' : ` ${Math.max(0, Math.min(100, Math.round(s.percentage)))}%`;
  switch (s.state) {
    case 'starting':
      return { text: '$(sync~spin) deepfim', tooltip: `deepfim: ${s.message}` };
    case 'loading':
      return { text: `deepfim $(sync~spin) loading${percent}`, tooltip: `deepfim: ${s.message}` };
    case 'reading':
      return { text: `deepfim $(sync~spin) reading${percent}`, tooltip: `deepfim: ${s.message}` };
    case 'ready':
    case 'disabled': {
      if (s.state === 'disabled' || s.off === true) {
        return { text: '$(circle-slash) deepfim', tooltip: 'deepfim: disabled (click for the menu to enable it)' };
      }
      const note = s.prefixOnly ? ' (prefix-only)' : '';
      const why = s.prefixOnly
        ? '\n\nprefix-only: this model has no fill-in-the-middle tokens, so it completes from the code before ' +
          'the cursor only. For suggestions that fit the code after it, pull DeepSeek-Coder ("deepfim: Pull (Download) ' +
          'Model") or set "deepfim.model" to a DeepSeek-Coder .gguf.'
        : '';
      if (typeof s.off === 'string') {
        return {
          text: `$(circle-slash) ${model}${note}`,
          tooltip: `deepfim: disabled for ${s.off} here (deepfim.disabledLanguages, a [${s.off}] override of ` +
            'deepfim.enable, or deepfim.enable in this folder\'s settings)',
        };
      }
      if (s.working) {
        return { text: `$(loading~spin) ${model}${note}`, tooltip: `deepfim: completing with ${model}${why}` };
      }
      return { text: `$(sparkle) ${model}${note}`, tooltip: (s.message.startsWith('deepfim') ? s.message : `deepfim ready: ${model}`) + why };
    }
    default: // error, stopped
      return { text: '$(error) deepfim', tooltip: `deepfim: ${s.message}` };
  }
}
