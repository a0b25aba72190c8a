// The extension's life cycle against stand-ins for `vscode` and the language client (test/stub,
// put in their place by esbuild's --alias in `npm test`): which settings a (re)started server gets,
// and that restarts leave one server running.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeEach, test } from 'node:test';
import type * as vscode from 'vscode';
import { activate, deactivate, findProgram } from '../src/extension';
import {
  answers, CancellationTokenSource, changeSettings, commandHandlers, documentOpened, errorButtons, errorMessages,
  folderSettings, informationMessages,
  settings, shownDocuments, statusItems, Uri, warningMessages, window, workspace,
} from './stub/vscode';
import { clients, LanguageClient } from './stub/vscode-languageclient/node';

const packageJSON = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const context = { extension: { packageJSON }, subscriptions: [] as { dispose(): void }[] };

async function start(): Promise<LanguageClient> {
  await activate(context as unknown as vscode.ExtensionContext);
  assert.equal(clients.length, 1);
  return clients[0];
}

/** Let the stops and starts under way run to their end (the stand-in client takes a few ms for each). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeEach(async () => {
  await deactivate();
  for (const subscription of context.subscriptions.splice(0)) {
    subscription.dispose();
  }
  clients.length = 0;
  settings.clear();
  folderSettings.clear();
});

test('a server restarted after a crash gets the settings of now, not those of the first start', async () => {
  settings.set('model', 'first.gguf');
  const client = await start();
  changeSettings({ model: 'second.gguf', maxTokens: 32 });
  assert.deepEqual(client.notifications.map((n) => (n.params as { settings: { deepfim: object } }).settings.deepfim),
    [{ ...(client.initialized[0] as object), model: 'second.gguf', maxTokens: 32 }]);
  await client.restartAfterCrash();
  const restarted = client.initialized[1] as { model?: string; maxTokens: number };
  assert.equal(restarted.model, 'second.gguf');
  assert.equal(restarted.maxTokens, 32);
});

/** The settings the server has now: its initializationOptions, then each didChangeConfiguration on them
 *  (a key left out keeps its value, as the server does). */
function told(client: LanguageClient): Record<string, unknown> {
  const initialized = client.initialized[client.initialized.length - 1] as Record<string, unknown>;
  const changes = client.notifications.map((n) => (n.params as { settings: { deepfim: object } }).settings.deepfim);
  return Object.assign({}, initialized, ...changes);
}

test('a setting changed while the server starts reaches it once it runs', async () => {
  settings.set('model', 'first.gguf');
  const activating = activate(context as unknown as vscode.ExtensionContext);
  // The server is started (initializationOptions sent) but has not answered `initialize` yet.
  changeSettings({ model: 'second.gguf', maxTokens: 32 });
  await activating;
  await settle();
  assert.equal(clients.length, 1);
  assert.equal(told(clients[0]).model, 'second.gguf');
  assert.equal(told(clients[0]).maxTokens, 32);
});

test('a model setting cleared while the server starts sends it back to the default model', async () => {
  settings.set('model', 'first.gguf');
  const activating = activate(context as unknown as vscode.ExtensionContext);
  changeSettings({ model: '' });
  await activating;
  await settle();
  assert.equal(told(clients[0]).model, null);
});

test('a setting set nowhere goes as null, so that a --set or --model in deepfim.serverCommand stays', async () => {
  settings.set('maxTokens', 32);
  const client = await start();
  const sent = client.initialized[0] as Record<string, unknown>;
  assert.equal(sent.maxTokens, 32);
  for (const key of ['model', 'timeBudgetMs', 'kvCacheType', 'lookupDecoding', 'enabled', 'engine']) {
    assert.equal(sent[key], null, key);  // the value `deepfim serve` was started with, else the server's default
  }
  changeSettings({ timeBudgetMs: 900 });
  changeSettings({ timeBudgetMs: undefined, maxTokens: undefined });  // both cleared
  assert.equal(told(client).timeBudgetMs, null);
  assert.equal(told(client).maxTokens, null);
});

test('a server error is told once, and again after a settings change that leaves it', async () => {
  const client = await start();
  const error = { type: 1, message: 'loading the model failed: /m/x.gguf is not a GGUF model file' };
  errorMessages.length = 0;
  client.receive('window/showMessage', error);
  client.receive('window/showMessage', error);  // a reload loop: not again
  assert.equal(errorMessages.length, 1);
  changeSettings({ showInSuggestWidget: true });  // nothing the server gets: no fix
  client.receive('window/showMessage', error);
  assert.equal(errorMessages.length, 1);
  changeSettings({ model: '/m/y.gguf' });
  client.receive('window/showMessage', error);  // the fix did not work: say so
  assert.equal(errorMessages.length, 2);
});

test('a setting changed while the client restarts a crashed server reaches the new server', async () => {
  const client = await start();
  const restarting = client.restartAfterCrash();
  changeSettings({ maxTokens: 7 });
  await restarting;
  await settle();
  assert.equal(told(client).maxTokens, 7);
});

test('the suggest widget gets no deepfim provider, also after the client restarts a crashed server', async () => {
  const client = await start();
  assert.equal(client.completionProviders, 0, 'after the first start');
  await client.restartAfterCrash();
  await settle();
  assert.equal(client.completionProviders, 0, 'after the restart the client made itself');
  changeSettings({ showInSuggestWidget: true });
  assert.equal(client.completionProviders, 1, 'deepfim.showInSuggestWidget turned on');
  await client.restartAfterCrash();
  await settle();
  assert.equal(client.completionProviders, 1, 'turned on, after another restart');
});

test('with deepfim.showInSuggestWidget on, the suggest widget gets one deepfim provider, not two', async () => {
  settings.set('showInSuggestWidget', true);
  const client = await start();
  assert.equal(client.completionProviders, 1);
  changeSettings({ showInSuggestWidget: false });
  assert.equal(client.completionProviders, 0);
  changeSettings({ showInSuggestWidget: true });
  assert.equal(client.completionProviders, 1);
});

test('a server that stopped 4 times in 3 minutes says so in the status bar, not just "not running"', async () => {
  const client = await start();
  for (let i = 0; i < 4; i++) {
    await client.crash();
  }
  assert.equal(client.isRunning(), false);
  const item = statusItems[statusItems.length - 1];
  assert.match(item.text, /error/, item.text);
  assert.match(item.tooltip?.value ?? '', /stopped 4 times in 3 minutes/);
});

test('two restarts at once leave one server running, the last one started', async () => {
  await start();
  // Each change of the command restarts the server; the second comes while the first stops the old one.
  changeSettings({ serverCommand: ['deepfim', 'serve', '--set', 'maxTokens=1'] });
  changeSettings({ serverCommand: ['deepfim', 'serve', '--set', 'maxTokens=2'] });
  await settle();
  const running = clients.filter((client) => client.isRunning());
  assert.equal(running.length, 1, `${running.length} servers running`);
  assert.equal(running[0], clients[clients.length - 1]);
});

test('a restart after a crash that cannot start the server says so, not "restarting" for ever', async () => {
  const client = await start();
  client.failRestart();
  const item = statusItems[statusItems.length - 1];
  assert.match(item.text, /error|alert/i, item.text);
  assert.match(item.tooltip?.value ?? '', /could not be started again.*deepfim: Restart Server/);
});

test('a relative deepfim.serverCommand program is found where the server is started (the workspace folder)', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfim-folder-'));
  fs.mkdirSync(path.join(folder, '.venv', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(folder, '.venv', 'bin', 'deepfim'), '#!/bin/sh\n', { mode: 0o755 });
  // child_process.spawn(program, args, { cwd: folder }) runs folder/.venv/bin/deepfim.
  assert.equal(findProgram('.venv/bin/deepfim', {}, folder), path.join(folder, '.venv', 'bin', 'deepfim'));
  assert.equal(findProgram('./.venv/bin/deepfim', {}, folder), path.join(folder, '.venv', 'bin', 'deepfim'));
  assert.equal(findProgram('bin/deepfim', {}, folder), undefined);
  assert.equal(findProgram(path.join(folder, '.venv', 'bin', 'deepfim'), {}, os.tmpdir()),
    path.join(folder, '.venv', 'bin', 'deepfim'));
  fs.rmSync(folder, { recursive: true });
});

/** A stand-in `deepfim` CLI: `models list` prints a catalog (the default first), `models pull NAME` a path. */
function fakeCli(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfim-cli-'));
  const program = path.join(folder, 'deepfim');
  fs.writeFileSync(program, [
    '#!/bin/sh',
    'if [ "$2" = list ]; then',
    '  echo "* deepseek-coder-1.3b-base:Q4_K_M       1.3B    0.9 GB  org/repo/base.gguf"',
    '  echo "  deepseek-coder-1.3b-instruct:Q4_K_M   1.3B    0.9 GB  org/repo/instruct.gguf  instruct: for code"',
    '  echo "  gemma-3-270m:Q4_K_M                   270M    0.3 GB  from the package registry  prefix-only"',
    'else',
    '  echo "/models/$3.gguf"',
    'fi',
  ].join('\n'), { mode: 0o755 });
  return program;
}

/** Pull `label` from the menu's catalog, answering each notification with its first button. */
async function pullFromCatalog(label: string): Promise<void> {
  answers.quickPick = (items) => items.find((item) => item.label === label);
  answers.information = (_message, items) => items[0];
  informationMessages.length = 0;
  try {
    await commandHandlers.get('deepfim.pullModel')?.();
  } finally {
    answers.quickPick = undefined;
    answers.information = undefined;
  }
}

test('a pulled instruct model is offered for the code actions (deepfim.instructModel), not as the completion model',
  async () => {
    settings.set('serverCommand', [fakeCli(), 'serve']);
    await start();
    await pullFromCatalog('deepseek-coder-1.3b-instruct:Q4_K_M');
    assert.deepEqual(informationMessages.map((m) => m.items), [['Use for code actions']]);
    assert.equal(settings.get('instructModel'), 'deepseek-coder-1.3b-instruct:Q4_K_M');
    assert.equal(settings.get('model'), undefined);
  });

test('a model pulled while deepfim.model is empty is offered for use unless it is the default the server loads',
  async () => {
    settings.set('serverCommand', [fakeCli(), 'serve']);
    await start();
    await pullFromCatalog('gemma-3-270m:Q4_K_M');
    assert.deepEqual(informationMessages.map((m) => m.items), [['Use this model']]);
    assert.equal(settings.get('model'), 'gemma-3-270m:Q4_K_M');
    await settle();
    changeSettings({ model: '' });
    const before = clients.length;
    await pullFromCatalog('deepseek-coder-1.3b-base:Q4_K_M');  // the default: the server loads it now
    assert.match(informationMessages[0].message, /reloading the server/);
    assert.equal(clients.length, before + 1);
  });

test('a code action that fails says why in one notification, on every try', async () => {
  const client = await start();
  const argument = { textDocument: { uri: 'file:///w/a.py' }, range: {}, action: 'fix', instruction: 'Fix the bugs.' };
  /** The server's deepfim.edit: it tells why it did not apply the edit (window/showMessage), then answers. */
  const failing = (type: number, message: string, reason: string) => (): unknown => {
    client.receive('window/showMessage', { type, message: `deepfim: ${message}` });
    return { applied: false, reason };
  };
  const missing = 'model file /m/i.gguf does not exist; set instructModel to a .gguf';
  const changed = 'the document changed while the edit was written, so it was not applied; ask again';
  for (const [type, message, reason] of [[1, missing, missing], [2, changed, 'the document changed']] as const) {
    errorMessages.length = 0;
    warningMessages.length = 0;
    for (let i = 0; i < 2; i++) {
      const execute = client.clientOptions.middleware?.executeCommand;
      await execute?.('deepfim.edit', [argument], failing(type, message, reason));
    }
    const shown = [...errorMessages, ...warningMessages];
    assert.equal(shown.length, 2, shown.join('\n'));
    assert.ok(shown.every((text) => text.startsWith(`deepfim: ${message.slice(0, 30)}`)), shown.join('\n'));
  }
});

test('deepfim.enable false in one folder of a multi-root workspace turns completions off there only', async () => {
  const client = await start();
  folderSettings.set('file:///work/docs', new Map([['enable', false]]));
  const asked: string[] = [];
  for (const uri of ['file:///work/docs/a.py', 'file:///work/code/a.py']) {
    const document = { uri: { toString: () => uri }, languageId: 'python', version: 1 };
    await client.clientOptions.middleware?.provideInlineCompletionItems?.(document, { line: 0, character: 0 },
      {}, new CancellationTokenSource().token, (asking) => void asked.push(asking.uri.toString()));
  }
  assert.deepEqual(asked, ['file:///work/code/a.py']);
});

test('"Explain" opens its answer beside the editor in a read-only document, not an untitled one to save', async () => {
  const client = await start();
  shownDocuments.length = 0;
  const argument = { textDocument: { uri: 'file:///w/a.py' }, range: {}, action: 'explain', instruction: 'Explain.' };
  await client.clientOptions.middleware?.executeCommand?.('deepfim.edit', [argument],
    () => ({ applied: false, explanation: 'It adds two numbers.' }));
  assert.equal(shownDocuments.length, 1);
  const [shown] = shownDocuments;
  assert.equal(shown.text, 'It adds two numbers.');
  assert.equal(shown.isDirty, false, `${shown.uri} asks to be saved when closed`);
  assert.match(shown.uri, /^deepfim-prompt:.*a\.py/);
});

test('"Pull" without the deepfim program says so on every try, before asking which model', async () => {
  settings.set('serverCommand', [path.join(os.tmpdir(), 'no-such-folder', 'deepfim'), 'serve']);
  await start();
  const asked: string[] = [];
  answers.input = () => {
    asked.push('input');
    return 'deepseek-coder-1.3b-base';
  };
  answers.quickPick = (items) => {
    asked.push('pick');
    return items[0];
  };
  errorMessages.length = 0;
  try {
    await commandHandlers.get('deepfim.pullModel')?.();
    await commandHandlers.get('deepfim.pullModel')?.();
  } finally {
    answers.input = undefined;
    answers.quickPick = undefined;
  }
  assert.deepEqual(asked, []);
  assert.equal(errorMessages.length, 2, errorMessages.join('\n'));
  assert.match(errorMessages[0], /no-such-folder\/deepfim` was not found/);
  // The setting to fix, one click away: the notification's button and a link in the status bar's tooltip.
  assert.deepEqual(errorButtons[errorButtons.length - 1], ['Open deepfim.serverCommand']);
  assert.match(statusItems[statusItems.length - 1].tooltip?.value ?? '', /\[Open deepfim\.serverCommand\]/);
});

test('while the client restarts a crashed server, the status bar says so, not "not running" in red', async () => {
  const client = await start();
  const item = statusItems[statusItems.length - 1];
  const crashed = client.crash();
  assert.match(item.tooltip?.value ?? '', /restarting the server after it stopped/);
  await crashed;
  // Started again; the new server has not said anything yet (it is loading its model).
  assert.equal(client.isRunning(), true);
  assert.doesNotMatch(item.text, /error/, item.text);
  assert.match(item.tooltip?.value ?? '', /restarting the server after it stopped/);
});

test('the status bar item\'s screen-reader label says disabled where its icon does', async () => {
  const client = await start();
  client.receive('deepfim/status', { state: 'ready', message: 'deepfim ready: Gemma', model: 'Gemma' });
  const item = statusItems[statusItems.length - 1];
  window.activeTextEditor = { document: { uri: { toString: () => 'file:///w/notes.md' }, languageId: 'markdown' } };
  try {
    changeSettings({ disabledLanguages: ['markdown'] });
    assert.match(item.text, /circle-slash/);
    assert.match(item.accessibilityInformation?.label ?? '', /^deepfim: ready, disabled for markdown\./);
    changeSettings({ enable: false });  // the toggle: the server's "disabled" has not come yet
    assert.match(item.accessibilityInformation?.label ?? '', /^deepfim: disabled\./);
  } finally {
    window.activeTextEditor = undefined;
  }
});

test('"Show Last Prompt" run from a shown prompt shows the prompt of the file it is about', async () => {
  const client = await start();
  const editor = (uri: Uri): { document: { uri: Uri; languageId: string } } =>
    ({ document: { uri, languageId: 'python' } });
  const [a, b] = ['/w/a.py', '/w/b.py'].map((file) => editor(Uri.from({ scheme: 'file', path: file })));
  const prompt = editor(Uri.from({ scheme: 'deepfim-prompt', path: '/last prompt (b.py).md', query: 'file:/w/b.py' }));
  window.activeTextEditor = prompt;
  window.visibleTextEditors = [a, prompt, b];
  try {
    await commandHandlers.get('deepfim.showLastPrompt')?.();
  } finally {
    window.activeTextEditor = undefined;
    window.visibleTextEditors = [];
  }
  assert.deepEqual(client.requests, [{ method: 'deepfim/explain', params: { textDocument: { uri: 'file:/w/b.py' } } }]);
});

test('the status bar follows a change of the file\'s language ("Change Language Mode")', async () => {
  const client = await start();
  client.receive('deepfim/status', { state: 'ready', message: 'deepfim ready: Gemma', model: 'Gemma' });
  const item = statusItems[statusItems.length - 1];
  settings.set('disabledLanguages', ['markdown']);
  const document = { uri: { toString: () => 'untitled:Untitled-1' }, languageId: 'plaintext' };
  window.activeTextEditor = { document };
  try {
    documentOpened.fire(document);
    assert.doesNotMatch(item.text, /circle-slash/);
    document.languageId = 'markdown';  // VS Code closes the document and opens it again
    documentOpened.fire(document);
    assert.match(item.text, /circle-slash/);
  } finally {
    window.activeTextEditor = undefined;
  }
});

test('in an untrusted workspace a relative deepfim.serverCommand runs no program of the workspace', async () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfim-untrusted-'));
  const ran = path.join(folder, 'ran');
  fs.mkdirSync(path.join(folder, '.venv', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(folder, '.venv', 'bin', 'deepfim'), `#!/bin/sh\ntouch '${ran}'\n`, { mode: 0o755 });
  settings.set('serverCommand', ['.venv/bin/deepfim', 'serve']);  // the user's, for their own projects
  workspace.workspaceFolders = [{ uri: { scheme: 'file', fsPath: folder } }];
  workspace.isTrusted = false;
  try {
    const client = await start();
    // What the client calls to start the server, and the menu's "Pull a model...".
    await assert.rejects(async () => (client.serverOptions as () => Promise<unknown>)(), /untrusted/);
    errorMessages.length = 0;
    await commandHandlers.get('deepfim.pullModel')?.();
    await settle();
    assert.equal(fs.existsSync(ran), false, 'the workspace\'s .venv/bin/deepfim ran');
    assert.match(errorMessages.join('\n'), /not trusted.*`\.venv\/bin\/deepfim`/);
  } finally {
    workspace.workspaceFolders = undefined;
    workspace.isTrusted = true;
    fs.rmSync(folder, { recursive: true });
  }
});

test('"Restart Server" after a server that kept crashing tells it again when it crashes on', async () => {
  const first = await start();
  errorMessages.length = 0;
  for (let i = 0; i < 4; i++) {
    await first.crash();
  }
  assert.equal(errorMessages.length, 1);
  await commandHandlers.get('deepfim.restart')?.();
  await settle();
  const again = clients[clients.length - 1];
  assert.notEqual(again, first);
  for (let i = 0; i < 4; i++) {
    await again.crash();
  }
  assert.equal(errorMessages.length, 2, errorMessages.join('\n'));
  assert.match(errorMessages[1], /stopped 4 times in 3 minutes/);
});

test('a notebook\'s cells are completed, and "Show Last Prompt" there shows the cell\'s prompt', async () => {
  const client = await start();
  const selector = client.clientOptions.documentSelector as { scheme: string }[];
  assert.ok(selector.some((filter) => filter.scheme === 'vscode-notebook-cell'));
  const cell = { document: { languageId: 'python',
    uri: { scheme: 'vscode-notebook-cell', path: '/w/nb.ipynb', toString: () => 'vscode-notebook-cell:/w/nb.ipynb#W1sZmlsZQ%3D%3D' } } };
  window.activeTextEditor = cell;
  window.visibleTextEditors = [cell];
  try {
    await commandHandlers.get('deepfim.showLastPrompt')?.();
  } finally {
    window.activeTextEditor = undefined;
    window.visibleTextEditors = [];
  }
  assert.deepEqual(client.requests, [{ method: 'deepfim/explain',
    params: { textDocument: { uri: 'vscode-notebook-cell:/w/nb.ipynb#W1sZmlsZQ%3D%3D' } } }]);
});
