import {
  FieldNode,
  FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  GraphQLType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  isWrappingType,
  Kind,
  OperationDefinitionNode,
  SchemaMetaFieldDef,
  SelectionSetNode,
  TypeMetaFieldDef,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { Errors } from './errors';

export interface QueryCostOptions {
  maxCost: number;
  /** What a `first` given as a variable counts as: the largest page any list serves. */
  maxPageSize: number;
  /** The length assumed of one of our lists that takes no `first` (currencies, balances, operators). */
  unpagedListSize: number;
}

/**
 * The cost of an operation is the number of objects its answer can hold: every object 1, scalars 0, and a
 * list as many times its element as it is long. A paged field's `first` (its schema default when omitted,
 * the largest page when a variable) is the length of the list it pages: its own list, or its connection's
 * `nodes`. Introspection's lists are as long as this schema makes them on average, so a loop through
 * `fields { type { fields ...` grows with each turn. Why not graphql-armor's cost limit: docs/decisions.md.
 */
export function queryCostRule(options: QueryCostOptions): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation: OperationDefinitionNode) {
      const cost = operationCost(context.getSchema(), operation, (name) => context.getFragment(name), options);
      if (cost > options.maxCost) {
        context.reportError(Errors.queryTooComplex(`Query Cost limit of ${options.maxCost} exceeded, found ${cost}.`));
      }
    },
  });
}

/** The cost of one operation, as queryCostRule weighs it. */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  options: Omit<QueryCostOptions, 'maxCost'>,
): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  return Math.ceil(new CostWalk(schema, fragment, options).selectionSet(operation.selectionSet, root, undefined));
}

class CostWalk {
  private readonly fragmentCosts = new Map<string, number>();
  private readonly inProgress = new Set<string>();
  private readonly introspection: ReadonlyMap<string, number>;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragment: (name: string) => FragmentDefinitionNode | null | undefined,
    private readonly options: Omit<QueryCostOptions, 'maxCost'>,
  ) {
    this.introspection = introspectionLengths(schema);
  }

  /** `page`: the length a paged parent field asked for, which its list fields take. */
  selectionSet(selectionSet: SelectionSetNode, type: GraphQLNamedType, page: number | undefined): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += this.field(selection, type, page);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : type;
        if (condition) cost += this.selectionSet(selection.selectionSet, condition, page);
      } else {
        cost += this.fragmentSpread(selection.name.value, page);
      }
    }
    return cost;
  }

  // Spreads are costed once per page length, so fragments that spread each other many times stay cheap to
  // weigh; a cycle (refused by graphql-js's own rule) counts nothing.
  private fragmentSpread(name: string, page: number | undefined): number {
    const key = `${name}\u0000${page ?? ''}`;
    const known = this.fragmentCosts.get(key);
    if (known !== undefined) return known;
    const definition = this.fragment(name);
    const type = definition && this.schema.getType(definition.typeCondition.name.value);
    if (!definition || !type || this.inProgress.has(name)) return 0;
    this.inProgress.add(name);
    const cost = this.selectionSet(definition.selectionSet, type, page);
    this.inProgress.delete(name);
    this.fragmentCosts.set(key, cost);
    return cost;
  }

  private field(node: FieldNode, parent: GraphQLNamedType, page: number | undefined): number {
    const definition = this.definition(node.name.value, parent);
    if (!definition || !node.selectionSet) return 0;
    const type = getNamedType(definition.type);
    if (!isCompositeType(type)) return 0;
    const asked = this.firstArgument(node, definition);
    const list = isListType(getNullableType(definition.type));
    const length = this.introspection.get(`${parent.name}.${definition.name}`) ?? (list ? (asked ?? page ?? this.options.unpagedListSize) : 1);
    // A paged field that is not itself a list (a connection) hands its length to the list inside it.
    return length * (1 + this.selectionSet(node.selectionSet, type, list ? undefined : asked));
  }

  private definition(name: string, parent: GraphQLNamedType): GraphQLField<unknown, unknown> | undefined {
    if (parent === this.schema.getQueryType()) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  }

  /** The length a field's `first` asks for, or undefined when the field takes none. */
  private firstArgument(node: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined {
    const argument = definition.args.find((arg) => arg.name === 'first');
    if (!argument) return undefined;
    const given = node.arguments?.find((arg) => arg.name.value === 'first')?.value;
    if (given === undefined) return typeof argument.defaultValue === 'number' ? argument.defaultValue : this.options.maxPageSize;
    if (given.kind === Kind.INT) return Math.max(0, Math.min(Number(given.value), this.options.maxPageSize));
    // A variable (or anything else): the largest page, since validation never sees its value.
    return this.options.maxPageSize;
  }
}

const introspectionCache = new WeakMap<GraphQLSchema, ReadonlyMap<string, number>>();

/**
 * How many objects each introspection field answers in this schema, on average (computed once per
 * schema): `types { fields }` holds as many fields as the schema has, spread over its types. `ofType`
 * is a chain as long as a field's or argument's wrappers (non-null, list); taken as a list of length p at
 * each step, p / (1 - p) is that mean length.
 */
function introspectionLengths(schema: GraphQLSchema): ReadonlyMap<string, number> {
  let lengths = introspectionCache.get(schema);
  if (lengths) return lengths;
  const types = Object.values(schema.getTypeMap());
  const withFields = types.filter((type) => isObjectType(type) || isInterfaceType(type));
  const fields = withFields.flatMap((type) => Object.values(type.getFields()));
  const inputFields = types.filter(isInputObjectType).flatMap((type) => Object.values(type.getFields()));
  const directives = schema.getDirectives();
  const args = [...fields.flatMap((field) => field.args), ...directives.flatMap((directive) => directive.args)];
  const typed = [...fields, ...inputFields, ...args];
  const wrappers = mean(
    typed.map((item) => wrapperCount(item.type)),
    typed.length,
  );
  lengths = new Map([
    ['__Schema.types', types.length],
    ['__Schema.directives', directives.length],
    [
      '__Type.fields',
      mean(
        withFields.map((type) => Object.keys(type.getFields()).length),
        types.length,
      ),
    ],
    ['__Type.inputFields', mean([inputFields.length], types.length)],
    [
      '__Type.enumValues',
      mean(
        types.filter(isEnumType).map((type) => type.getValues().length),
        types.length,
      ),
    ],
    [
      '__Type.interfaces',
      mean(
        withFields.map((type) => type.getInterfaces().length),
        types.length,
      ),
    ],
    [
      '__Type.possibleTypes',
      mean(
        types.filter(isAbstractType).map((type) => schema.getPossibleTypes(type).length),
        types.length,
      ),
    ],
    ['__Type.ofType', wrappers / (1 + wrappers)],
    [
      '__Field.args',
      mean(
        fields.map((field) => field.args.length),
        fields.length,
      ),
    ],
    [
      '__Directive.args',
      mean(
        directives.map((directive) => directive.args.length),
        directives.length,
      ),
    ],
  ]);
  introspectionCache.set(schema, lengths);
  return lengths;
}

function mean(counts: number[], over: number): number {
  return over === 0 ? 0 : counts.reduce((sum, count) => sum + count, 0) / over;
}

function wrapperCount(type: GraphQLType): number {
  let count = 0;
  for (let current = type; isWrappingType(current); current = current.ofType) count += 1;
  return count;
}
