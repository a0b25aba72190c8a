import * as vscode from 'vscode';
import { Explanation, render } from './text';

export type { Explanation } from './text';

export const SCHEME = 'deepfim-prompt';

/** The read-only documents `deepfim-prompt:/<file>.md?<document uri>`. */
export class PromptDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly texts = new Map<string, string>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  async show(explanation: Explanation | null, document: vscode.TextDocument): Promise<void> {
    const base = document.uri.path.replace(/^.*\//, '') || 'untitled';
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/last prompt (${base}).md`, query: document.uri.toString() });
    this.texts.set(uri.toString(), render(explanation, { uri: document.uri.toString(), languageId: document.languageId }));
    this.changed.fire(uri);
    const shown = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(shown, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
