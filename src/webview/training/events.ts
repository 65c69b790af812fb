/** Notifications from the host: validated, then turned into reducer actions. */
import type { TrainingAction } from './state';
import { parseTrainingNotification, type TrainingNotification } from './validate';

export function toAction(m: TrainingNotification): TrainingAction {
  switch (m.method) {
    case 'reset':
      return { type: 'reset', title: m.params.title, idle: m.params.idle === true };
    case 'metrics':
      return { type: 'metrics', line: m.params };
    case 'done':
      return { type: 'done', message: m.params.message, cancelled: m.params.cancelled };
    case 'snapshot':
      return { type: 'snapshot', state: m.params };
  }
}

/** Dispatches a valid notification; returns false (and does nothing) for anything malformed. */
export function handleMessage(data: unknown, dispatch: (a: TrainingAction) => void): boolean {
  const m = parseTrainingNotification(data);
  if (!m) return false;
  dispatch(toAction(m));
  return true;
}

export function listen(target: Window, dispatch: (a: TrainingAction) => void): () => void {
  const onMessage = (e: MessageEvent): void => {
    if (!handleMessage(e.data, dispatch)) console.warn('TextVAE: ignored a malformed message');
  };
  target.addEventListener('message', onMessage);
  return () => target.removeEventListener('message', onMessage);
}
