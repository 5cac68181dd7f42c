"""At most one alias-bearing write per GraphQL request: content must never receive two
aliases of one person in one request.

Each of these mutations acts under one of the viewer's aliases (createPost and addComment
under the chosen visibility's alias, react, retractReaction, votePoll and reportContent under
the viewer's alias of that thread, an author's edits, deletions and solved cases under the
alias the record was written under). Two of them in one operation would hand content two
aliases of one person within one request (one trace, one connection, back to back): enough
to link the threads. Reads carry no alias at all (gateway/viewer_state.py), so one write is
the only alias a request can ever show content. The rule runs at validation, before
anything executes.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)

#: Root mutation fields that send one of the viewer's aliases to content.
ALIAS_WRITES = frozenset(
    {
        "createPost",
        "addComment",
        "react",
        "votePoll",
        "retractReaction",
        "markCaseSolved",
        "editPost",
        "editComment",
        "deletePost",
        "deleteComment",
        "reportContent",
    }
)

MESSAGE = (
    "one alias-bearing write per request: createPost, addComment, react, votePoll, "
    "retractReaction, markCaseSolved, editPost, editComment, deletePost, deleteComment and "
    "reportContent each act under one of your aliases, and content must never see two of one "
    "person's aliases in one request; send each as its own request"
)


class OneAliasWritePerRequest(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        writes = self._writes(node.selection_set, set())
        if len(writes) > 1:
            self.report_error(GraphQLError(MESSAGE, writes))

    def _writes(self, selections: SelectionSetNode, seen: set[str]) -> list[FieldNode]:
        """Alias-bearing root fields, counted through fragments (each spread counts: a
        fragment spread twice would run twice). Directives are ignored on purpose: a
        conditional second write is refused too."""
        found: list[FieldNode] = []
        for selection in selections.selections:
            if isinstance(selection, FieldNode) and selection.name.value in ALIAS_WRITES:
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found.extend(self._writes(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:  # cycles are another rule's error
                    found.extend(self._writes(fragment.selection_set, {*seen, name}))
        return found
