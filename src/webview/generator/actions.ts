/** Commands the generator webview posts to the host. */
import type { GeneratorCommands, GeneratorViewState } from '../../protocol/webview';
import type { Post } from '../shared/post';
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
    ready: () => post('ready', {}),
    sample(params) {
      dispatch({ type: 'requested', label: `Sampling ${params.n} ${params.n === 1 ? 'paragraph' : 'paragraphs'}…` });
      post('sample', { ...params });
    },
    interpolate(params) {
      dispatch({ type: 'requested', label: `Interpolating in ${params.steps} steps…` });
      post('interpolate', { ...params });
    },
    useSelection: (slot) => post('useSelection', { slot }),
    copy: (text) => post('copy', { text }),
    insert: (text) => post('insert', { text }),
    loadMap() {
      dispatch({ type: 'requested', label: 'Mapping the workspace…' });
      post('loadMap', {});
    },
    openLocation: (uri, offset) => post('openLocation', { uri, offset }),
    cancel: () => post('cancel', {}),
  };
}
