/** Commands the generator webview posts to the host. */
import type { GeneratorCommands, GeneratorViewState } from '../../protocol/webview';
import type { Post } from '../common/post';
import type { GeneratorAction } from './state';

export interface GeneratorActions {
  ready(): void;
  sample(params: GeneratorViewState['sample']): void;
  interpolate(params: GeneratorViewState['interpolate']): void;
  useSelection(slot: 'from' | 'to'): void;
  copy(text: string): void;
  insert(text: string): void;
  loadMap(): void;
  openLocation(uri: string, offset: number): void;
  cancel(): void;
}

export function createActions(post: Post<GeneratorCommands>, dispatch: (a: GeneratorAction) => void): GeneratorActions {
  return {
    ready: () => void post('ready', {}),
    sample(params) {
      const id = post('sample', { ...params });
      dispatch({
        type: 'requested',
        label: `Sampling ${params.n} ${params.n === 1 ? 'paragraph' : 'paragraphs'}…`,
        id,
      });
    },
    interpolate(params) {
      const id = post('interpolate', { ...params });
      dispatch({ type: 'requested', label: `Interpolating in ${params.steps} steps…`, id });
    },
    useSelection: (slot) => void post('useSelection', { slot }),
    copy: (text) => void post('copy', { text }),
    insert: (text) => void post('insert', { text }),
    loadMap() {
      const id = post('loadMap', {});
      dispatch({ type: 'requested', label: 'Mapping the workspace…', id });
    },
    openLocation: (uri, offset) => void post('openLocation', { uri, offset }),
    cancel() {
      dispatch({ type: 'cancelRequested' });
      post('cancel', {});
    },
  };
}
