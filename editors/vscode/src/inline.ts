import * as vscode from 'vscode';
type Result = vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined;
/** The client's own provider (vscode-languageclient's ProvideInlineCompletionItemsSignature). */
type Next = (document: vscode.TextDocument, position: vscode.Position, context: vscode.InlineCompletionContext,
  token: vscode.CancellationToken) => vscode.ProviderResult<vscode.InlineCompletionItem[] | vscode.InlineCompletionList>;

interface Kept {
  key: string;
  result: Promise<Result>;
  /** Another call for the same place waits for `result` too (its server request is cancelled only
   *  when every caller is); absent for an answer already in. */
  join?: (token: vscode.CancellationToken) => void;
}

function cursorAt(document: vscode.TextDocument, position: vscode.Position): boolean {
  const editor = vscode.window.activeTextEditor;
  return editor !== undefined && editor.document === document && editor.selections.length === 1 &&
    editor.selection.isEmpty && editor.selection.active.isEqual(position);
}

function hasItems(result: Result): boolean {
  const items = Array.isArray(result) ? result : result?.items ?? [];
  return items.length > 0;
}

/** Keeps slow completions that VS Code gave up on, and shows them when they arrive.
 *
 *  With `editor.quickSuggestions` at its default ("offWhenInlineCompletions" for code), VS Code
 *  waits only 750 ms for inline completions after a keystroke; then it opens the suggest widget and
 *  stops the inline completions (cancelling the request). A model on a CPU often needs longer. So
 *  when VS Code cancels a request, the document is still as it was when the request was made and
 *  the suggest widget was just triggered at that position (seen by `noteSuggest`, a completion
 *  provider that offers nothing), the request goes on; when its answer comes and the cursor is
 *  still there, the extension triggers inline suggestions again and answers from the kept result
 *  at once. Any other cancellation (typing on, moving away, Escape) reaches the server as usual. */
export class SlowCompletions {
  private kept: Kept | undefined;
  private suggested: { key: string; time: number } | undefined;
  /** The last answer with items, for a suggest trigger that comes just after it (see noteSuggest). */
  private answered: { key: string; value: Result; time: number } | undefined;
  /** How long after a cancellation the suggest trigger may come (both come from one timer). */
  static readonly suggestWindowMs = 500;

  constructor(private readonly log: (message: string) => void) {}

  private static key(document: vscode.TextDocument, position: vscode.Position): string {
    return `${document.uri.toString()}@${document.version}:${position.line}:${position.character}`;
  }

  /** The suggest widget asked for completions here (register as a completion provider). When an
   *  answer for this very place came just before, VS Code gave up waiting as it arrived (its 750 ms
   *  ran out while the answer crossed from the extension host) and drops it: show it again. */
  noteSuggest(document: vscode.TextDocument, position: vscode.Position): undefined {
    const key = SlowCompletions.key(document, position);
    const now = Date.now();
    this.suggested = { key, time: now };
    const answered = this.answered;
    this.answered = undefined;
    if (answered && answered.key === key && now - answered.time <= SlowCompletions.suggestWindowMs) {
      this.kept = { key, result: Promise.resolve(answered.value) };
      this.log(`VS Code opened the suggest widget ${now - answered.time} ms after the answer came; showing it again`);
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }
    return undefined;
  }

  async provide(document: vscode.TextDocument, position: vscode.Position, context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken, next: Next): Promise<Result> {
    const version = document.version;
    const key = SlowCompletions.key(document, position);
    const kept = this.kept;
    if (kept && kept.key === key) {
      kept.join?.(token);
      this.kept = undefined;
      return kept.result;
    }
    const source = new vscode.CancellationTokenSource();
    const decisions: Promise<boolean>[] = [];
    const begin = Date.now();
    const listeners: vscode.Disposable[] = [];
    /** The callers still waiting for the answer: VS Code cancels the first when it asks again for the
     *  same place (a manual trigger), and the request goes on for the one that joined. */
    let waiting = 0;
    const follow = (caller: vscode.CancellationToken): void => {
      waiting += 1;
      listeners.push(caller.onCancellationRequested(() => {
        const cancelledAt = Date.now();
        // Only the document's version here: the extension host learns the cursor of the keystroke
        // that made this request later than its text, so on a busy machine the editor's selection
        // can still be the previous one. The cursor is checked when the answer comes.
        if (document.version !== version) {
          source.cancel();
          return;
        }
        decisions.push(new Promise((resolve) => setTimeout(() => {
          const suggested = this.suggested;
          const keep = suggested !== undefined && suggested.key === key &&
            Math.abs(suggested.time - cancelledAt) <= SlowCompletions.suggestWindowMs;
          if (keep) {
            this.log(`VS Code stopped waiting after ${cancelledAt - begin} ms to open the suggest widget; ` +
              `keeping the request at ${position.line + 1}:${position.character + 1}`);
          } else {
            const apart = suggested?.key === key
              ? ` (the suggest widget came ${suggested.time - cancelledAt} ms apart)` : '';
            this.log(`VS Code cancelled the request at ${position.line + 1}:${position.character + 1} after ` +
              `${cancelledAt - begin} ms${apart}`);
            waiting -= 1;
            if (waiting === 0) {
              source.cancel();
            }
          }
          resolve(keep);
        }, SlowCompletions.suggestWindowMs)));
      }));
    };
    follow(token);
    const result = Promise.resolve(next(document, position, context, source.token));
    // A second call for the same place (e.g. a manual trigger) joins in.
    this.kept = { key, result, join: follow };
    try {
      const value = await result;
      const keep = (await Promise.all(decisions)).some(Boolean);
      if (keep && !source.token.isCancellationRequested && hasItems(value) && cursorAt(document, position) &&
          document.version === version) {
        this.kept = { key, result: Promise.resolve(value) };
        this.log(`showing the kept completion (${Date.now() - begin} ms)`);
        void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      } else if (this.kept?.result === result) {
        this.kept = undefined;
      }
      if (!token.isCancellationRequested && hasItems(value)) {
        this.answered = { key, value, time: Date.now() };
      }
      return token.isCancellationRequested ? null : value;
    } finally {
      listeners.forEach((listener) => listener.dispose());
      source.dispose();
    }
  }
}
