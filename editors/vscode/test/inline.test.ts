// SlowCompletions (src/inline.ts) against the `vscode` stand-in (test/stub): which cancellations of
// VS Code's inline completion requests reach the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as vscode from 'vscode';
import { SlowCompletions } from '../src/inline';

const document = { uri: { toString: () => 'file:///w/a.py' }, version: 3 } as unknown as vscode.TextDocument;
const position = { line: 4, character: 8 } as unknown as vscode.Position;
const context = {} as vscode.InlineCompletionContext;
const item = { insertText: 'open(path) as f:' } as vscode.InlineCompletionItem;

/** The language client's provider: one server request per call, answered by `answer`; a cancelled
 *  request comes back as null (as vscode-languageclient returns it). */
type Next = Parameters<SlowCompletions['provide']>[4];

function server(): { next: Next; answer: () => void; tokens: vscode.CancellationToken[] } {
  const tokens: vscode.CancellationToken[] = [];
  const answers: (() => void)[] = [];
  const next: Next = (_d, _p, _c, token) => {
    tokens.push(token);
    return new Promise((resolve) => {
      token.onCancellationRequested(() => resolve(null));
      answers.push(() => resolve([item]));
    });
  };
  return { next, answer: () => answers.forEach((answer) => answer()), tokens };
}

const pastSuggestWindow = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, SlowCompletions.suggestWindowMs + 50));

test('a request joining one in flight for the same place gets its answer when VS Code cancels the first', async () => {
  // Alt+\ (deepfim: Trigger Completion) while the automatic request for this place is running: VS Code
  // cancels the automatic one and asks again; the second call joins the first's server request.
  const slow = new SlowCompletions(() => undefined);
  const { next, answer, tokens } = server();
  const automatic = new vscode.CancellationTokenSource();
  const first = slow.provide(document, position, context, automatic.token, next);
  const explicit = new vscode.CancellationTokenSource();
  const second = slow.provide(document, position, context, explicit.token, next);
  automatic.cancel();
  await pastSuggestWindow();
  assert.equal(tokens.length, 1, 'one server request');
  assert.equal(tokens[0].isCancellationRequested, false, 'the server request was cancelled under the second caller');
  answer();
  assert.deepEqual(await second, [item]);
  assert.equal(await first, null);
});

test('the server request is cancelled once every caller waiting for it is cancelled', async () => {
  const slow = new SlowCompletions(() => undefined);
  const { next, tokens } = server();
  const one = new vscode.CancellationTokenSource();
  const first = slow.provide(document, position, context, one.token, next);
  const two = new vscode.CancellationTokenSource();
  const second = slow.provide(document, position, context, two.token, next);
  one.cancel();
  two.cancel();
  await pastSuggestWindow();
  assert.equal(tokens[0].isCancellationRequested, true);
  assert.equal(await first, null);
  assert.equal(await second, null);
});

test('a cancelled request with nobody else waiting reaches the server as cancelled', async () => {
  const slow = new SlowCompletions(() => undefined);
  const { next, tokens } = server();
  const only = new vscode.CancellationTokenSource();
  const result = slow.provide(document, position, context, only.token, next);
  only.cancel();
  await pastSuggestWindow();
  assert.equal(tokens[0].isCancellationRequested, true);
  assert.equal(await result, null);
});
