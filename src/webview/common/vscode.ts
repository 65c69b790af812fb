/** The object VS Code injects into webviews; typed by the state the webview persists. */
export interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): S | void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

/** May be called only once per webview load. */
export function getVsCodeApi<S>(): VsCodeApi<S> {
  return acquireVsCodeApi<S>();
}
