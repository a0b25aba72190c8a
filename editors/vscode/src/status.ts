import * as vscode from 'vscode';
import { enabledForLanguage, serverSettings } from './config';
import { prefixOnly, statusText } from './text';

/** What the server last said in `deepfim/status`, plus the client's own states. */
export interface ServerStatus {
  state: 'starting' | 'loading' | 'reading' | 'ready' | 'error' | 'disabled' | 'stopped';
  message: string;
  percentage?: number;
  model?: string;
  /** The VS Code settings the message names (`inVSCodeTerms`): links in the tooltip. */
  settings?: string[];
}

/** The status bar item: loading and reading with percentage, ready (model name, prefix-only),
 *  working, disabled, error (the text is `statusText`'s). */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: ServerStatus = { state: 'starting', message: 'starting the server' };
  private model: string | undefined;
  /** Whether the loaded model is prefix-only, from the ready message ("prefix-only template"). */
  private prefixOnly = false;
  private inFlight = 0;
  private readonly listeners: vscode.Disposable[] = [];

  constructor() {
    this.item = vscode.window.createStatusBarItem('deepfim.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'deepfim';
    this.item.command = 'deepfim.menu';
    this.listeners.push(vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      // A document whose language changed ("Change Language Mode") is closed and opened again.
      vscode.workspace.onDidOpenTextDocument((document) => {
        if (document === vscode.window.activeTextEditor?.document) {
          this.render();
        }
      }));
    this.render();
    this.item.show();
  }

  get current(): ServerStatus {
    return this.status;
  }

  get modelName(): string | undefined {
    return this.model;
  }

  set(status: ServerStatus): void {
    this.status = status;
    if (status.model) {
      this.model = status.model;
    }
    if (status.state === 'loading') {
      this.prefixOnly = false;
    }
    this.prefixOnly = prefixOnly(status.message) ?? this.prefixOnly;
    // "reading" comes while a completion reads a long prompt: it is still in flight.
    if (status.state !== 'ready' && status.state !== 'disabled' && status.state !== 'reading') {
      this.inFlight = 0;
    }
    this.render();
  }

  /** Bracket a completion request: the item shows "working" while any is in flight. */
  async working<T>(run: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    this.render();
    try {
      return await run();
    } finally {
      this.inFlight = Math.max(0, this.inFlight - 1);
      this.render();
    }
  }

  render(): void {
    const item = this.item;
    const s = this.status;
    const document = vscode.window.activeTextEditor?.document;
    const off = !serverSettings().enabled ? true
      : document && !enabledForLanguage(document) ? document.languageId : undefined;
    const shown = statusText({ ...s, model: this.model, prefixOnly: this.prefixOnly, working: this.inFlight > 0, off });
    item.text = shown.text;
    const failed = s.state === 'error' || s.state === 'stopped';
    item.backgroundColor = failed ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendText(shown.tooltip);
    // Links that open the settings the message names (only that command runs from the tooltip).
    tooltip.isTrusted = { enabledCommands: ['workbench.action.openSettings'] };
    for (const setting of s.settings ?? []) {
      const args = encodeURIComponent(JSON.stringify([setting]));
      tooltip.appendMarkdown(`\n\n[Open ${setting}](command:workbench.action.openSettings?${args})`);
    }
    item.tooltip = tooltip;
    // As the text says once the model is in: off everywhere (before the server's "disabled" comes) or for
    // this file's language.
    const shownOff = s.state === 'ready' || s.state === 'disabled' ? off : undefined;
    const state = shownOff === true ? 'disabled' : s.state;
    const notes = [typeof shownOff === 'string' ? `disabled for ${shownOff}` : '', this.inFlight ? 'working' : '',
      this.prefixOnly && !failed ? 'prefix-only' : ''].filter(Boolean);
    const label = `deepfim: ${state}${notes.map((note) => `, ${note}`).join('')}. ${s.message}`;
    item.accessibilityInformation = { label };
  }

  dispose(): void {
    this.item.dispose();
    for (const listener of this.listeners) {
      listener.dispose();
    }
  }
}
