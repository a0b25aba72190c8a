// The server's hints in VS Code's terms (`inVSCodeTerms`) and the status bar's text (`statusText`):
// `npm test`. The messages are the server's own (models/catalog.py, server/engines/*.py,
// server/settings.py, server/service.py); the settings are the extension's package.json.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { inVSCodeTerms, prefixOnly, pullFailed, settingNames, statusText } from '../src/text';

const KNOWN = settingNames(JSON.parse(fs.readFileSync('package.json', 'utf8')));

test('settingNames reads the extension\'s settings from package.json', () => {
  for (const name of ['model', 'contextSize', 'engine', 'engineApi', 'engineModel', 'serverCommand', 'enable']) {
    assert.ok(KNOWN.has(name), name);
  }
  assert.ok(!KNOWN.has('deepfim.model'));
  assert.deepEqual([...settingNames({})], []);
  assert.deepEqual([...settingNames(undefined)], []);
});

test('a model that is not downloaded: pass --model becomes deepfim.model, the pull stays', () => {
  const hinted = inVSCodeTerms('deepfim: model deepseek-coder-33b-base:Q8_0 is not downloaded yet; run ' +
    '`deepfim models pull deepseek-coder-33b-base:Q8_0` or pass --model /path/to/a.gguf', KNOWN);
  assert.equal(hinted.message, 'deepfim: model deepseek-coder-33b-base:Q8_0 is not downloaded yet; run ' +
    '`deepfim models pull deepseek-coder-33b-base:Q8_0` or set "deepfim.model" to /path/to/a.gguf');
  assert.deepEqual(hinted.settings, ['deepfim.model']);
});

test('a model file that does not exist or is not a GGUF', () => {
  assert.equal(inVSCodeTerms('model file /m/x.gguf does not exist; pass --model with the path of a .gguf file or a ' +
    'catalog name (see `deepfim models list`)', KNOWN).message,
  'model file /m/x.gguf does not exist; set "deepfim.model" to the path of a .gguf file or a catalog name ' +
    '(see `deepfim models list`)');
  assert.equal(inVSCodeTerms('model file /m/x.gguf does not exist; pass --model /path/to/model.gguf or run ' +
    '`deepfim models pull deepseek-coder-1.3b-base`', KNOWN).message,
  'model file /m/x.gguf does not exist; set "deepfim.model" to /path/to/model.gguf or run ' +
    '`deepfim models pull deepseek-coder-1.3b-base`');
  const notGguf = inVSCodeTerms("/m/x.bin is not a GGUF model file (it does not start with 'GGUF'); point --model at " +
    'a .gguf file such as deepseek-coder-1.3b-base.Q4_K_M.gguf', KNOWN);
  assert.match(notGguf.message, /; point "deepfim\.model" at a \.gguf file such as/);
  assert.deepEqual(notGguf.settings, ['deepfim.model']);
});

test('"set model" and "set the model" (the small fallback model\'s notice)', () => {
  const notice = inVSCodeTerms('DeepSeek-Coder 1.3B base is not downloaded, so the small Gemma 3 270M model serves ' +
    'instead: it completes from the code before the cursor only (prefix-only). Run `deepfim models pull` where the ' +
    'model hub can be reached, or set the model to a .gguf file', KNOWN);
  assert.match(notice.message, /, or set "deepfim\.model" to a \.gguf file$/);
  assert.deepEqual(notice.settings, ['deepfim.model']);
  assert.equal(inVSCodeTerms('no model is loaded for edits: set model, or instructModel for a separate instruct model',
    new Set(['model'])).message,
  'no model is loaded for edits: set "deepfim.model", or instructModel for a separate instruct model');
});

test('contextSize, engine, engineApi and engineModel hints', () => {
  const window = inVSCodeTerms('not enough memory for a 16384-token window; using 4096 tokens (set contextSize lower ' +
    'or free memory)', KNOWN);
  assert.equal(window.message, 'not enough memory for a 16384-token window; using 4096 tokens ' +
    '(set "deepfim.contextSize" lower or free memory)');
  assert.deepEqual(window.settings, ['deepfim.contextSize']);
  assert.match(inVSCodeTerms('Gemma was trained on 8192-token windows; a 16384-token window goes beyond it and ' +
    'completions may degrade (set contextSize to 8192 or less)', KNOWN).message, /\(set "deepfim\.contextSize" to 8192 or less\)$/);
  assert.equal(inVSCodeTerms('unsupported URL scheme; set engine to a URL such as http://127.0.0.1:8080', KNOWN).message,
    'unsupported URL scheme; set "deepfim.engine" to a URL such as http://127.0.0.1:8080');
  assert.match(inVSCodeTerms('cannot tell which API the engine at http://h:1 speaks: check the URL or set engineApi ' +
    'to llama.cpp, openai or ollama', KNOWN).message, /or set "deepfim\.engineApi" to llama\.cpp/);
  assert.match(inVSCodeTerms('the engine at http://h:1/v1 serves 2 models (a, b): set engineModel to one of them', KNOWN).message,
    /: set "deepfim\.engineModel" to one of them$/);
  assert.equal(inVSCodeTerms('pass --context-size 4096', KNOWN).message, 'set "deepfim.contextSize" to 4096');
});

test('a refused setting names the VS Code setting', () => {
  const hinted = inVSCodeTerms('deepfim: setting contextSize: 100 is not accepted; expected an integer from 512 to ' +
    '131072; using 512', KNOWN);
  assert.equal(hinted.message, 'deepfim: setting "deepfim.contextSize": 100 is not accepted; expected an integer from ' +
    '512 to 131072; using 512');
  assert.equal(inVSCodeTerms('setting enabled: "yes" is not accepted', KNOWN).message, 'setting "deepfim.enable": "yes" is not accepted');
});

test('what is not a VS Code setting stays as the server said it', () => {
  for (const message of [
    'deepfim ready: Gemma 3 270m (prefix-only template, 16384-token window)',
    'loading the model failed: out of memory',
    'no project context (pass --workspace DIR)',
    'set up the engine first',
    'set the window lower',
    'reading the window 40% (4,000 of 10,000 tokens)',
  ]) {
    assert.deepEqual(inVSCodeTerms(message, KNOWN), { message, settings: [] });
  }
  // Only the settings this extension has: an unknown key is left alone.
  const onlyModel = new Set(['model']);
  assert.equal(inVSCodeTerms('free memory or set instructModel to a smaller model', onlyModel).message,
    'free memory or set instructModel to a smaller model');
  assert.deepEqual(inVSCodeTerms('pass --threads 4', onlyModel), { message: 'pass --threads 4', settings: [] });
});

test('prefixOnly reads the ready message', () => {
  assert.equal(prefixOnly('deepfim ready: Gemma 3 270m (prefix-only template, 16384-token window)'), true);
  assert.equal(prefixOnly('deepfim ready: deepseek-coder-1.3b-base (deepseek template, 16384-token window)'), false);
  assert.equal(prefixOnly('enabled'), undefined);
  assert.equal(prefixOnly('the engine answers again'), undefined);
});

test('statusText: loading and reading with their percentage', () => {
  assert.equal(statusText({ state: 'loading', message: 'loading model 45%', percentage: 45 }).text, 'deepfim $(sync~spin) loading 45%');
  assert.equal(statusText({ state: 'loading', message: 'connecting to the engine at http://gpu:8080' }).text,
    'deepfim $(sync~spin) loading');
  const reading = statusText({ state: 'reading', message: 'reading the window 40% (4,000 of 10,000 tokens)', percentage: 40, model: 'Gemma' });
  assert.equal(reading.text, 'deepfim $(sync~spin) reading 40%');
  assert.equal(reading.tooltip, 'deepfim: reading the window 40% (4,000 of 10,000 tokens)');
  assert.equal(statusText({ state: 'reading', message: '', percentage: 12.6 }).text, 'deepfim $(sync~spin) reading 13%');
});

test('statusText: ready, prefix-only, working, disabled, error', () => {
  const message = 'deepfim ready: Gemma 3 270m (prefix-only template, 16384-token window)';
  const ready = statusText({ state: 'ready', message, model: 'Gemma 3 270m', prefixOnly: true });
  assert.equal(ready.text, '$(sparkle) Gemma 3 270m (prefix-only)');
  assert.match(ready.tooltip, /^deepfim ready: Gemma 3 270m \(prefix-only template/);
  assert.match(ready.tooltip, /completes from the code before the cursor only/);
  assert.equal(statusText({ state: 'ready', message: 'deepfim ready: x (deepseek template, 4096-token window)', model: 'x' }).text,
    '$(sparkle) x');
  assert.equal(statusText({ state: 'ready', message, model: 'Gemma', prefixOnly: true, working: true }).text,
    '$(loading~spin) Gemma (prefix-only)');
  assert.equal(statusText({ state: 'disabled', message: 'disabled by the client\'s settings', model: 'Gemma' }).text, '$(circle-slash) deepfim');
  assert.equal(statusText({ state: 'ready', message, model: 'Gemma', off: true }).text, '$(circle-slash) deepfim');
  assert.match(statusText({ state: 'ready', message, model: 'Gemma', off: 'markdown' }).tooltip, /disabled for markdown/);
  const error = statusText({ state: 'error', message: 'model x is not downloaded yet; set "deepfim.model" to /p.gguf' });
  assert.equal(error.text, '$(error) deepfim');
  assert.equal(error.tooltip, 'deepfim: model x is not downloaded yet; set "deepfim.model" to /p.gguf');
  assert.equal(statusText({ state: 'starting', message: 'starting deepfim serve' }).text, '$(sync~spin) deepfim');
});

// The phrases above are the server's: when it words a hint differently, this says where to look.
test('a failed pull in VS Code terms: no "run deepfim with --model", no doubled "deepfim:"', () => {
  const line = 'deepfim: cannot download https://huggingface.co/x/y.gguf (timed out); download ' +
    'deepseek-coder-1.3b-base.Q4_K_M.gguf from TheBloke/x yourself and run deepfim with --model ' +
    '/path/to/deepseek-coder-1.3b-base.Q4_K_M.gguf (or set DEEPFIM_MODEL)';
  const failed = pullFailed('deepseek-coder-1.3b-base', line, KNOWN);
  assert.equal(failed.message, 'deepfim: pulling deepseek-coder-1.3b-base failed: cannot download ' +
    'https://huggingface.co/x/y.gguf (timed out); download deepseek-coder-1.3b-base.Q4_K_M.gguf from TheBloke/x ' +
    'yourself and set "deepfim.model" to /path/to/deepseek-coder-1.3b-base.Q4_K_M.gguf (or set DEEPFIM_MODEL)');
  assert.deepEqual(failed.settings, ['deepfim.model']);
  assert.equal(pullFailed('m', 'exit code 1', KNOWN).message, 'deepfim: pulling m failed: exit code 1');
});

test('the server still words its hints as these tests do', () => {
  const source = (file: string): string => fs.readFileSync(`../../${file}`, 'utf8');
  const phrases: [string, string][] = [
    ['models/catalog.py', 'pass --model with the path of a .gguf'],
    ['models/catalog.py', 'or pass --model /path/to/a.gguf'],
    ['models/catalog.py', 'or set the model to a .gguf file'],
    ['server/engines/local.py', 'pass --model /path/to/model.gguf'],
    ['server/engines/local.py', 'point --model at a .gguf file'],
    ['server/engines/local.py', 'set contextSize lower or free memory'],
    ['server/engines/local.py', 'set contextSize to {n_ctx_train} or less'],
    ['server/engines/__init__.py', 'set engine to a URL'],
    ['server/engines/__init__.py', 'set engineApi to llama.cpp'],
    ['server/engines/openai.py', 'set engineModel to one of them'],
    ['server/settings.py', 'f"setting {key}: '],
    ['models/download.py', 'and run deepfim with --model /path/to/{entry.file}'],
    ['server/service.py', '({info.template.name} template, '],
    ['fim/templates.py', 'name="prefix-only"'],
  ];
  for (const [file, phrase] of phrases) {
    assert.ok(source(file).includes(phrase), `${file} no longer says ${JSON.stringify(phrase)}`);
  }
});
