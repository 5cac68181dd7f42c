"""The static cost limit: every operation is priced before it runs, and refused over the limit.

The rules are those of the IBM GraphQL cost specification as Apollo Router's demand control
and Cosmo apply them: a field returning an object, interface or union costs 1, a scalar or
enum costs 0, a root mutation field costs 10; a list multiplies the cost of its selection by
its size, nested lists multiply again. A list's size is its slicing argument (`first`: the
variable's value, else the literal, else the argument's default) or, for lists without one,
an assumed size. Connections are priced as `@listSize(slicingArguments: ["first"],
sizedFields: ["nodes"])` would price them: `nodes` takes the size of its parent's `first`.
Aliases and fragment spreads are each counted where they appear, because each one runs.
Directives (`@skip`, `@include`) are ignored: the worst case is what is priced.

The rule runs at validation, so a refused document never reaches an upstream service.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    validate,
)
from strawberry.extensions import SchemaExtension

CODE = "COST_LIMIT_EXCEEDED"
#: The slicing argument of every paged field in the schema.
SLICING_ARGUMENT = "first"
#: The list field of a connection that takes its size from the parent's slicing argument.
SIZED_FIELD = "nodes"
#: Apollo's default cost of a root mutation field: a write does more than a read.
MUTATION_FIELD_COST = 10


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under the wrappers, and whether a list is among them."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Pricer:
    """Prices one operation against the schema; unknown fields (another rule's error) are free."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        assumed_list_size: int,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._assumed = assumed_list_size

    def operation(self, node: OperationDefinitionNode) -> int:
        root = self._schema.get_root_type(node.operation)
        if root is None:
            return 0
        per_field = MUTATION_FIELD_COST if node.operation is OperationType.MUTATION else 0
        return self._selections(node.selection_set, root, None, frozenset(), per_field)

    def _selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        slice_size: int | None,
        seen: frozenset[str],
        root_field_cost: int = 0,
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += root_field_cost + self._field(selection, parent, slice_size, seen)
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = self._schema.get_type(selection.type_condition.name.value) or parent
                total += self._selections(
                    selection.selection_set, on, slice_size, seen, root_field_cost
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in seen:  # unknown or cyclic: other rules' errors
                    continue
                on = self._schema.get_type(fragment.type_condition.name.value) or parent
                total += self._selections(
                    fragment.selection_set, on, slice_size, seen | {name}, root_field_cost
                )
        return total

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        slice_size: int | None,
        seen: frozenset[str],
    ) -> int:
        fields = getattr(parent, "fields", None)
        definition = fields.get(node.name.value) if fields is not None else None
        if definition is None:  # __typename, an abstract parent's field, or an unknown one
            return 0
        named, is_list = _unwrap(definition.type)
        own_slice = self._slicing_argument(node, definition.args)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return 0
        child = 1 + self._selections(node.selection_set, named, own_slice, seen)
        if not is_list:
            return child
        size = own_slice
        if size is None and node.name.value == SIZED_FIELD:
            size = slice_size
        return child * (self._assumed if size is None else size)

    def _slicing_argument(self, node: FieldNode, args: Mapping[str, Any]) -> int | None:
        """The value of `first` as the resolver will see it, if the field takes one."""
        definition = args.get(SLICING_ARGUMENT)
        if definition is None:
            return None
        value: Any = definition.default_value
        for argument in node.arguments or ():
            if argument.name.value != SLICING_ARGUMENT:
                continue
            if isinstance(argument.value, VariableNode):
                value = self._variables.get(argument.value.name.value, value)
            elif isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
        # A bad value is another rule's (or the resolver's) error; price it as unsized.
        return max(value, 0) if isinstance(value, int) and not isinstance(value, bool) else None


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
    assumed_list_size: int = 10,
) -> int:
    """The static cost of one operation (exposed for tests and for clients' tooling)."""
    return _Pricer(schema, fragments, variables or {}, assumed_list_size).operation(operation)


def cost_rule(
    limit: int, variables: Mapping[str, Any] | None, assumed_list_size: int
) -> type[ValidationRule]:
    """A validation rule bound to this request's variables (rules get no variables otherwise)."""
    bound = dict(variables) if isinstance(variables, Mapping) else {}

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            cost = operation_cost(
                self.context.schema, node, self._fragments, bound, assumed_list_size
            )
            if cost > limit:
                self.report_error(
                    GraphQLError(
                        f"operation cost {cost} exceeds the limit of {limit}: ask for smaller "
                        "pages (`first`), fewer nested lists or fewer aliases, or split it",
                        node,
                        extensions={"code": CODE, "cost": cost, "limit": limit},
                    )
                )

    return CostLimit


class CostLimiter(SchemaExtension):
    """Prices a valid document with the cost rule, bound to the request's variables.

    It runs on its own after the other rules, not among them: their verdict is cached per
    document (gateway/schema/build.py), and a rule made for each request's variables would
    make every request a cache miss."""

    def __init__(
        self, *, max_cost: int, assumed_list_size: int = 10, affordable: Affordable | None = None
    ) -> None:
        self.max_cost = max_cost
        self.assumed_list_size = assumed_list_size
        self.affordable = affordable

    def on_validate(self) -> Iterator[None]:
        # Listed after ValidationCache: its verdict is in by now, and strawberry looks at the
        # errors before any hook resumes after its yield, so the pricing happens here.
        context = self.execution_context
        rule = cost_rule(self.max_cost, context.variables, self.assumed_list_size)
        if context.pre_execution_errors is None:
            # Nobody validated ahead of strawberry: the rule joins its validation.
            context.validation_rules = (*context.validation_rules, rule)
        elif not context.pre_execution_errors and context.graphql_document is not None:
            document, known = context.graphql_document, self.affordable
            key = known.key(document, context.variables) if known is not None else None
            if known is None or key is None or not known.has(key, document):
                errors = validate(context.schema._schema, document, [rule])
                if errors:
                    context.pre_execution_errors = errors
                elif known is not None and key is not None:
                    known.add(key, document)
        yield


class Affordable:
    """Documents (with their variables) found within the limit, kept so a frontend's same
    query is not priced again on every request. Only verdicts of "affordable" are kept, so
    no error object is ever shared between requests. Keyed by the document's identity (the
    parse cache hands out one object per text) and the variables' JSON; nothing of a viewer's
    beyond the variables they sent, which stay in this process."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[int, str], DocumentNode] = OrderedDict()

    def key(
        self, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> tuple[int, str] | None:
        try:
            shown = json.dumps(variables, sort_keys=True) if variables else ""
        except (TypeError, ValueError):
            return None
        return (id(document), shown) if len(shown) <= _VARIABLES_KEPT else None

    def has(self, key: tuple[int, str], document: DocumentNode) -> bool:
        # The identity check: an id can be reused once its document is gone.
        if self._kept.get(key) is not document:
            return False
        self._kept.move_to_end(key)
        return True

    def add(self, key: tuple[int, str], document: DocumentNode) -> None:
        self._kept[key] = document
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)


#: Variables longer than this (a post's body) are priced each time rather than kept.
_VARIABLES_KEPT = 512
