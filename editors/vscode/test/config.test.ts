// Settings the extension writes (`npm test`): they go where the effective value comes from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveTarget } from '../src/config';
import { ConfigurationTarget, inspections } from './stub/vscode';

test('a setting is written where its effective value is set, so that the change takes effect', () => {
  assert.equal(effectiveTarget('model'), ConfigurationTarget.Global);  // set nowhere: the user's settings
  inspections.set('model', { workspaceValue: 'deepseek-coder-1.3b-base' });
  assert.equal(effectiveTarget('model'), ConfigurationTarget.Workspace);  // the user's would change nothing
  inspections.set('enable', { workspaceValue: true, workspaceFolderValue: false });
  assert.equal(effectiveTarget('enable'), ConfigurationTarget.WorkspaceFolder);
  inspections.clear();
});
