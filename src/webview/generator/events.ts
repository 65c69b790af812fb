/** Notifications from the host: validated, then turned into reducer actions. */
import type { GeneratorAction } from './state';
import { parseGeneratorNotification } from './validate';

/** Dispatches a valid notification; returns false (and does nothing) for anything malformed. */
export function handleMessage(data: unknown, dispatch: (a: GeneratorAction) => void): boolean {
  const message = parseGeneratorNotification(data);
  if (!message) return false;
  dispatch({ type: 'notification', message });
  return true;
}

export function listen(target: Window, dispatch: (a: GeneratorAction) => void): () => void {
  const onMessage = (e: MessageEvent): void => {
    if (!handleMessage(e.data, dispatch)) console.warn('TextVAE: ignored a malformed message');
  };
  target.addEventListener('message', onMessage);
  return () => target.removeEventListener('message', onMessage);
}
