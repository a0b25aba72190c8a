// The extension's life cycle against stand-ins for `vscode` and the language client (test/stub,
// put in their place by esbuild's --alias in `npm test`): which settings a (re)started server gets.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { beforeEach, test } from 'node:test';
import type * as vscode from 'vscode';
import { activate, deactivate } from '../src/extension';
import { changeSettings, settings } from './stub/vscode';
import { clients, LanguageClient } from './stub/vscode-languageclient/node';

const packageJSON = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const context = { extension: { packageJSON }, subscriptions: [] as { dispose(): void }[] };

async function start(): Promise<LanguageClient> {
  await activate(context as unknown as vscode.ExtensionContext);
  assert.equal(clients.length, 1);
  return clients[0];
}

beforeEach(async () => {
  await deactivate();
  for (const subscription of context.subscriptions.splice(0)) {
    subscription.dispose();
  }
  clients.length = 0;
  settings.clear();
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
