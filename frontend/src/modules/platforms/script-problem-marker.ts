import { StateEffect, StateField } from '@codemirror/state';
import { Decoration, EditorView, type DecorationSet } from '@codemirror/view';

const setProblemLine = StateEffect.define<number | null>();
const problemLine = Decoration.line({ class: 'cm-problem-line' });

/** Highlights the line the API reported an error on, so the user sees where to look. */
const problemLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(decorations, transaction) {
    let next = decorations.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (!effect.is(setProblemLine)) continue;
      next =
        effect.value === null
          ? Decoration.none
          : Decoration.set([problemLine.range(transaction.state.doc.line(effect.value).from)]);
    }
    return next;
  },
  provide: (field) => EditorView.decorations.from(field),
});

export function problemMarker() {
  return {
    extension: problemLineField,
    /** Marks `line` (1-based) and scrolls to it; no line, or one past the end, clears the mark. */
    mark(view: EditorView, line: number | undefined): void {
      const known = line !== undefined && line >= 1 && line <= view.state.doc.lines;
      view.dispatch({
        effects: known
          ? [
              setProblemLine.of(line),
              EditorView.scrollIntoView(view.state.doc.line(line).from, { y: 'center' }),
            ]
          : [setProblemLine.of(null)],
      });
    },
  };
}
