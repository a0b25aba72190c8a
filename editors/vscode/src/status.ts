import * as vscode from 'vscode';
import { enabledForLanguage, serverSettings } from './config';

/** What the server last said in `deepfim/status`, plus the client's own states. */
export interface ServerStatus {
  state: 'starting' | 'loading' | 'ready' | 'error' | 'disabled' | 'stopped';
  message: string;
  percentage?: number;
  model?: string;
}

/** The status bar item: loading with percentage, ready (model name), working, disabled, error. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: ServerStatus = { state: 'starting', message: 'starting the server' };
  private model: string | undefined;
  private inFlight = 0;
  private readonly listeners: vscode.Disposable[] = [];

  constructor() {
    this.item = vscode.window.createStatusBarItem('deepfim.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'deepfim';
    this.item.command = 'deepfim.menu';
    this.listeners.push(vscode.window.onDidChangeActiveTextEditor(() => this.render()));
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
    if (status.state !== 'ready' && status.state !== 'disabled') {
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
    const model = this.model ?? 'deepfim';
    item.backgroundColor = undefined;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = false;
    const editor = vscode.window.activeTextEditor;
    const language = editor?.document.languageId;
    const globalOff = !serverSettings().enabled;
    switch (s.state) {
      case 'starting':
        item.text = '$(sync~spin) deepfim';
        tooltip.appendText(`deepfim: ${s.message}`);
        break;
      case 'loading':
        item.text = `$(sync~spin) deepfim ${s.percentage ?? 0}%`;
        tooltip.appendText(`deepfim: ${s.message}`);
        break;
      case 'error':
      case 'stopped':
        item.text = '$(error) deepfim';
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tooltip.appendText(`deepfim: ${s.message}`);
        break;
      case 'disabled':
      case 'ready':
        if (s.state === 'disabled' || globalOff) {
          item.text = '$(circle-slash) deepfim';
          tooltip.appendText('deepfim: disabled (click for the menu to enable it)');
        } else if (language && !enabledForLanguage(language)) {
          item.text = `$(circle-slash) ${model}`;
          tooltip.appendText(`deepfim: disabled for ${language} (deepfim.disabledLanguages or a [${language}] override of deepfim.enable)`);
        } else if (this.inFlight > 0) {
          item.text = `$(loading~spin) ${model}`;
          tooltip.appendText(`deepfim: completing with ${model}`);
        } else {
          item.text = `$(sparkle) ${model}`;
          tooltip.appendText(s.message.startsWith('deepfim') ? s.message : `deepfim ready: ${model}`);
        }
        break;
    }
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: `deepfim: ${s.state}${this.inFlight ? ', working' : ''}. ${s.message}` };
  }

  dispose(): void {
    this.item.dispose();
    for (const listener of this.listeners) {
      listener.dispose();
    }
  }
}
