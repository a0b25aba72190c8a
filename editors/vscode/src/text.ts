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
