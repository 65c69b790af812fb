/**
 * The training view's state and its pure reducer. The host keeps the same state with the same
 * reducer, so that it can send a snapshot whenever the webview (re)loads.
 */
import type { MetricsLine } from '../core/types';
import type { MethodCall, TrainingNotifications, TrainingPoint, TrainingViewState } from './webview';

/** Curves keep at most this many points; older ones are thinned out. */
export const MAX_POINTS = 2000;

export type TrainingAction =
  | { type: 'reset'; title: string; idle?: boolean }
  | { type: 'metrics'; line: MetricsLine }
  | { type: 'done'; message: string; cancelled: boolean }
  | { type: 'snapshot'; state: TrainingViewState }
  | { type: 'cancelRequested' };

export function emptyTrainingState(title = ''): TrainingViewState {
  return { title, points: [], latest: null, done: null, cancelling: false };
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function toPoint(m: MetricsLine): TrainingPoint {
  return { step: m.step, loss: finite(m.loss), kl: finite(m.kl_bits_per_byte), val: finite(m.val_bits_per_byte) };
}

/**
 * Halves the density of all but the newest points until they fit: every other point of the
 * older part is dropped, the first and last are kept.
 */
export function thin(points: readonly TrainingPoint[], max = MAX_POINTS): TrainingPoint[] {
  let out = points.slice();
  while (out.length > max && max >= 2) {
    const keepTail = Math.floor(max / 4);
    const head = out.slice(0, out.length - keepTail);
    const tail = out.slice(out.length - keepTail);
    const thinned = head.filter((_, i) => i === 0 || i % 2 === 0);
    out = thinned.concat(tail);
  }
  return out;
}

export function reduce(state: TrainingViewState, action: TrainingAction): TrainingViewState {
  switch (action.type) {
    case 'reset':
      return action.idle ? { ...emptyTrainingState(action.title), idle: true } : emptyTrainingState(action.title);
    case 'metrics': {
      const point = toPoint(action.line);
      // A step at or before the last one means the curve restarted (e.g. a resumed run).
      const kept = state.points.filter((p) => p.step < point.step);
      const { idle: _idle, ...rest } = state;
      return { ...rest, points: thin([...kept, point]), latest: action.line };
    }
    case 'done':
      return { ...state, done: { message: action.message, cancelled: action.cancelled }, cancelling: false };
    case 'snapshot':
      return action.state;
    case 'cancelRequested':
      return state.done ? state : { ...state, cancelling: true };
  }
}

/** What a notification does to the state (the host applies it to its copy before sending it). */
export function toAction(m: MethodCall<TrainingNotifications>): TrainingAction {
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

export type RunStatus = 'idle' | 'starting' | 'running' | 'cancelling' | 'cancelled' | 'finished';

export function runStatus(state: TrainingViewState): RunStatus {
  if (state.done) return state.done.cancelled ? 'cancelled' : 'finished';
  if (state.idle) return 'idle';
  if (state.cancelling) return 'cancelling';
  if (state.latest) return 'running';
  // reset() without metrics yet: the run is preparing its data.
  if (state.title) return 'starting';
  return 'idle';
}

/** Cancel is offered while a run is in progress and not already being cancelled. */
export function canCancel(state: TrainingViewState): boolean {
  const s = runStatus(state);
  return s === 'running' || s === 'starting';
}
