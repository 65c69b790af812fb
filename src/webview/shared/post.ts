import { isWebviewMessage, type WebviewMessage } from '../../protocol/webview';

export type Post<M> = <K extends keyof M>(method: K, params: M[K]) => void;

/** A typed poster that numbers every message it sends. */
export function createPoster<M>(send: (message: WebviewMessage<M>) => void): Post<M> {
  let id = 0;
  return (method, params) => send({ id: ++id, method, params } as WebviewMessage<M>);
}

/** The envelope check plus the method's own field checks; null for anything malformed. */
export function parseEnvelope<M>(
  value: unknown,
  methods: readonly (keyof M)[],
): { method: keyof M; params: Record<string, unknown> } | null {
  if (!isWebviewMessage<M>(value, methods)) return null;
  const params = value.params as unknown;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return null;
  return { method: value.method, params: params as Record<string, unknown> };
}
