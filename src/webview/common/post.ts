/** The message plumbing both webview apps share: numbered commands out, validated notifications in. */
import { parseMessage, type MessageSchemas, type ParamsOf, type WebviewMessage } from '../../protocol/webview';

/** Posts a command; returns its id, which the host's answers carry as `replyTo`. */
export type Post<M> = <K extends keyof M>(method: K, params: M[K]) => number;

/** A typed poster that numbers every message it sends. */
export function createPoster<M>(send: (message: WebviewMessage<M>) => void): Post<M> {
  let id = 0;
  return (method, params) => {
    send({ id: ++id, method, params } as WebviewMessage<M>);
    return id;
  };
}

/** Hands a notification that fits `schemas` to `handle`; returns false (and does nothing) for anything else. */
export function handleMessage<S extends MessageSchemas>(
  schemas: S,
  data: unknown,
  handle: (message: WebviewMessage<ParamsOf<S>>) => void,
): boolean {
  const message = parseMessage(schemas, data);
  if (!message) return false;
  handle(message);
  return true;
}

/** Listens for the host's notifications; returns the function that stops listening. */
export function listen<S extends MessageSchemas>(
  target: Window,
  schemas: S,
  handle: (message: WebviewMessage<ParamsOf<S>>) => void,
): () => void {
  const onMessage = (e: MessageEvent): void => {
    if (!handleMessage(schemas, e.data, handle)) console.warn('TextVAE: ignored a malformed message');
  };
  target.addEventListener('message', onMessage);
  return () => target.removeEventListener('message', onMessage);
}
