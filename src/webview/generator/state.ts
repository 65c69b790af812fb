/** The generator webview's state and its pure reducer (no DOM). */
import type { MapPoint } from '../../protocol/engine';
import type {
  GeneratorModelState,
  GeneratorNotification,
  GeneratorSettings,
  GeneratorViewState,
} from '../../protocol/webview';
import { SETTINGS } from '../../protocol/settings';

export interface GeneratorState {
  /** Persisted with setState. */
  view: GeneratorViewState;
  /** undefined until the host has said; null: no model loaded. */
  model: GeneratorModelState | null | undefined;
  busy: boolean;
  busyLabel: string;
  error: string | null;
  notice: string | null;
  /** The form came from saved state: the settings must not overwrite what the user chose. */
  restored: boolean;
  /** Id of the last request (sample, interpolate, loadMap) posted since this webview loaded; 0: none. */
  request: number;
  /** Answers to requests up to this id are dropped: the user cancelled them. */
  cancelledThrough: number;
}

export type GeneratorAction =
  | { type: 'notification'; message: GeneratorNotification }
  | { type: 'sampleForm'; patch: Partial<GeneratorViewState['sample']> }
  | { type: 'interpolateForm'; patch: Partial<GeneratorViewState['interpolate']> }
  /** A command that starts a request was posted (`id`: its message id): busy until the host answers. */
  | { type: 'requested'; label: string; id: number }
  /** Cancel was pressed: whatever still arrives for the request in flight is dropped. */
  | { type: 'cancelRequested' }
  | { type: 'dismissError' }
  | { type: 'localError'; message: string }
  | { type: 'clearResults'; which: 'samples' | 'interpolation' | 'map' };

/** The settings' defaults, until the host sends the settings themselves. */
const SETTING_DEFAULTS: GeneratorSettings = {
  count: SETTINGS['sampling.count'].default,
  temperature: SETTINGS['sampling.temperature'].default,
  topP: SETTINGS['sampling.topP'].default,
  steps: SETTINGS['interpolation.steps'].default,
  mode: SETTINGS['interpolation.mode'].default,
};

export function defaultViewState(settings: GeneratorSettings = SETTING_DEFAULTS): GeneratorViewState {
  return {
    sample: { n: settings.count, temperature: settings.temperature, seed: 1, maxTokens: 64, chunks: 1 },
    interpolate: { from: '', to: '', steps: settings.steps, mode: settings.mode },
    samples: [],
    interpolation: [],
    map: [],
  };
}

export function initialState(saved: GeneratorViewState | null): GeneratorState {
  return {
    view: saved ?? defaultViewState(),
    model: undefined,
    busy: false,
    busyLabel: '',
    error: null,
    notice: null,
    restored: saved !== null,
    request: 0,
    cancelledThrough: 0,
  };
}

export function reduce(state: GeneratorState, action: GeneratorAction): GeneratorState {
  switch (action.type) {
    case 'sampleForm':
      return { ...state, view: { ...state.view, sample: { ...state.view.sample, ...action.patch } } };
    case 'interpolateForm':
      return { ...state, view: { ...state.view, interpolate: { ...state.view.interpolate, ...action.patch } } };
    case 'requested':
      return { ...state, busy: true, busyLabel: action.label, error: null, notice: null, request: action.id };
    case 'cancelRequested':
      return { ...state, cancelledThrough: Math.max(state.cancelledThrough, state.request) };
    case 'dismissError':
      return { ...state, error: null };
    case 'localError':
      return { ...state, error: action.message, notice: null };
    case 'clearResults':
      return { ...state, view: { ...state.view, [action.which]: [] } };
    case 'notification':
      return applyNotification(state, action.message);
  }
}

function applyNotification(state: GeneratorState, m: GeneratorNotification): GeneratorState {
  // The answer to a request the user cancelled, sent before the host saw the Cancel.
  if (m.replyTo !== undefined && m.replyTo <= state.cancelledThrough) return state;
  switch (m.method) {
    case 'model':
      return { ...state, model: m.params.model };
    case 'settings': {
      if (state.restored) return state;
      const d = defaultViewState(m.params);
      // Seed only the fields the settings cover; keep what the user may already have typed.
      return {
        ...state,
        restored: true,
        view: {
          ...state.view,
          sample: { ...state.view.sample, n: d.sample.n, temperature: d.sample.temperature },
          interpolate: { ...state.view.interpolate, steps: d.interpolate.steps, mode: d.interpolate.mode },
        },
      };
    }
    case 'busy':
      return { ...state, busy: m.params.busy, busyLabel: m.params.busy ? (m.params.label ?? 'Working…') : '' };
    case 'samples':
      return { ...state, error: null, view: { ...state.view, samples: m.params.items } };
    case 'interpolation':
      return { ...state, error: null, view: { ...state.view, interpolation: m.params.items } };
    case 'map':
      return { ...state, error: null, view: { ...state.view, map: m.params.points } };
    case 'selection':
      return {
        ...state,
        error: null,
        view: { ...state.view, interpolate: { ...state.view.interpolate, [m.params.slot]: m.params.text } },
      };
    case 'error':
      return { ...state, error: m.params.message, notice: null };
    case 'notice':
      return { ...state, notice: m.params.message };
  }
}

export function mapPoints(state: GeneratorState): MapPoint[] {
  return state.view.map ?? [];
}

/**
 * Whether a request may be sent now: nothing else runs. A missing model does not block it:
 * the engine may load its model on the first request, and reports an error otherwise.
 */
export function canRequest(state: GeneratorState): boolean {
  return !state.busy;
}
