import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;

const cached = new WeakSet<MetadataStorage>();

/**
 * Makes class-validator look a class's rules up once instead of on every validation.
 *
 * `getTargetValidationMetadatas` walks every decorated class of the process, on every `validate` call, to
 * find the rules a class inherits (typestack/class-validator#2686). In this service that walk was most of
 * the ValidationPipe's cost on every request. The rules of a class only change when a decorator registers
 * one, so the answers are kept per class and per set of options, and all of them are forgotten whenever a
 * rule is registered anywhere (a class loaded late): a lookup always sees every rule registered before it.
 * Idempotent; installed on the process's one metadata storage by createValidationPipe.
 */
export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  if (cached.has(storage)) return;
  cached.add(storage);
  let answers = new WeakMap<object, Map<string, ValidationMetadata[]>>();
  const register = storage.addValidationMetadata.bind(storage);
  const lookUp = storage.getTargetValidationMetadatas.bind(storage);
  storage.addValidationMetadata = (metadata: ValidationMetadata): void => {
    answers = new WeakMap();
    register(metadata);
  };
  storage.getTargetValidationMetadatas = (target, targetSchema, always, strictGroups, groups) => {
    // The target is the validated object's `constructor`, which an object of its own can make anything
    // (`{ constructor: 1 }`): only a class is remembered, anything else is looked up as class-validator would.
    if (typeof target !== 'function') return lookUp(target, targetSchema, always, strictGroups, groups);
    // Groups are kept as given (JSON), so ['a,b'] and ['a', 'b'] stay apart.
    const options = `${targetSchema}|${always}|${strictGroups}|${groups === undefined ? '' : JSON.stringify(groups)}`;
    let forTarget = answers.get(target);
    if (!forTarget) answers.set(target, (forTarget = new Map()));
    let answer = forTarget.get(options);
    if (!answer) forTarget.set(options, (answer = lookUp(target, targetSchema, always, strictGroups, groups)));
    // A copy of the list: class-validator's callers only read it, but a caller that changed it would change every later validation.
    return answer.slice();
  };
}
