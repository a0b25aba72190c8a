// Unit tests of the pure text functions: `npm test` (esbuild bundles, node's test runner runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Explanation, expandHome, parseCatalog, parseProgress, pullSuggestion, render } from '../src/text';

test('parseProgress reads the last bar of a chunk', () => {
  assert.deepEqual(parseProgress('\r[###...........................]     12.3/874.0 MB'), { done: 12.3, total: 874 });
  assert.deepEqual(parseProgress('\r[#..]  1.0/10.0 MB\r[##.]  5.5/10.0 MB'), { done: 5.5, total: 10 });
  assert.deepEqual(parseProgress('\r    42.0 MB'), { done: 42 });
  assert.equal(parseProgress('deepfim: the hub cannot be reached'), undefined);
});

test('parseCatalog reads `deepfim models list`', () => {
  const listing = [
    '* deepseek-coder-1.3b-base:Q4_K_M     1.3B    0.9 GB  org/repo/file.gguf  downloaded',
    '  deepseek-coder-6.7b-base:Q8_0       6.7B    7.2 GB  org/repo/file2.gguf',
    '',
    '* default. Pull one with `deepfim models pull NAME[:QUANT]`; any local .gguf works with --model PATH.',
  ].join('\n');
  const models = parseCatalog(listing);
  assert.deepEqual(models.map((m) => [m.name, m.isDefault]), [
    ['deepseek-coder-1.3b-base:Q4_K_M', true],
    ['deepseek-coder-6.7b-base:Q8_0', false],
  ]);
});

test('pullSuggestion finds the model a server error asks to pull', () => {
  assert.equal(pullSuggestion('model deepseek-coder-1.3b-base:Q4_K_M is not downloaded yet; run ' +
    '`deepfim models pull deepseek-coder-1.3b-base` or pass --model /path/to/a.gguf'), 'deepseek-coder-1.3b-base');
  assert.equal(pullSuggestion('loading the model failed: out of memory'), undefined);
});

test('render shows completion, timings and every segment, fenced safely', () => {
  const explanation: Explanation = {
    completion: ' open(path) as f:\n        return f.readlines()',
    model: 'Gemma 3 270m',
    prompt: {
      token_ids: [2, 10, 11, 12],
      segments: [
        { kind: 'control', source: null, tokens: 1, text: '<bos>' },
        { kind: 'context', source: 'pkg/util.py', tokens: 1, text: 'x = "```"\n' },
        { kind: 'prefix', source: 'main.py', tokens: 2, text: 'def f():\n    with' },
      ],
    },
    timings: { prompt_tokens_evaluated: 4, prompt_tokens_reused: 0, generated_tokens: 9, total_ms: 120.5 },
  };
  const text = render(explanation, { uri: 'file:///w/main.py', languageId: 'python' });
  assert.match(text, /# deepfim: last prompt for main\.py/);
  assert.match(text, /```python\n open\(path\) as f:/);
  assert.match(text, /\| tokens generated \| 9 \|/);
  assert.match(text, /### 2\. context · `pkg\/util\.py` · 1 token\n/);
  assert.match(text, /````\nx = "```"\n````/); // a longer fence than the text's own backticks
  assert.match(text, /4 tokens in 3 segments/);
  assert.match(render(null, { uri: 'file:///w/a.py', languageId: 'python' }), /No completion has been served/);
});

test('a leading ~ of the server command is the home folder (no shell expands it)', () => {
  assert.equal(expandHome('~/src/deepfim/.venv/bin/deepfim', '/home/u'), '/home/u/src/deepfim/.venv/bin/deepfim');
  assert.equal(expandHome('~', '/home/u'), '/home/u');
  assert.equal(expandHome('/opt/~x/deepfim', '/home/u'), '/opt/~x/deepfim');
  assert.equal(expandHome('~other/deepfim', '/home/u'), '~other/deepfim');
});
