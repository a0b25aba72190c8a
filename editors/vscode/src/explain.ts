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
    await this.showMarkdown(`last prompt (${base})`, document.uri.toString(),
      render(explanation, { uri: document.uri.toString(), languageId: document.languageId }));
  }

  /** Show `markdown` read-only beside the editor as `deepfim-prompt:/<title>.md?<source>`, the URI of the
   *  document it is about (it replaces what was shown there before): closing it asks nothing. */
  async showMarkdown(title: string, source: string, markdown: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${title}.md`, query: source });
    this.texts.set(uri.toString(), markdown);
    this.changed.fire(uri);
    const shown = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(shown, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
