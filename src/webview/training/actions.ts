/** Commands the training webview posts to the host. */
import type { TrainingCommands } from '../../protocol/webview';
import type { Post } from '../common/post';
import type { TrainingAction } from '../../protocol/trainingState';

export interface TrainingActions {
  ready(): void;
  cancel(): void;
}

export function createActions(post: Post<TrainingCommands>, dispatch: (a: TrainingAction) => void): TrainingActions {
  return {
    ready: () => void post('ready', {}),
    cancel() {
      dispatch({ type: 'cancelRequested' });
      post('cancel', {});
    },
  };
}
