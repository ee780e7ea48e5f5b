/**
 * GitLab's `rules: if:` expressions, evaluated over what is known of a kind of pipeline rather than of
 * one pipeline: a variable may be known (a string, or unset), or known only partly (set, but to a
 * branch name nobody can predict). The answer is three-valued — true, false or "maybe" — so a
 * check can ask "could this job run there?" and stay on the safe side of anything it cannot decide:
 * a syntax this evaluator does not know is "maybe", never false.
 *
 * Grammar (GitLab's `Gitlab::Ci::Pipeline::Expression`): `$VAR`, "string", 'string', null,
 * /regex/flags, `==` `!=` `=~` `!~`, `&&` (binds tighter) and `||`, parentheses.
 */

export type Truth = true | false | "maybe";

/** A variable whose value is set but not predictable (a branch name, a user's variable). */
export interface Unknown {
  readonly unknown: true;
  /** Same identity: equal. Different identities: different (an unprotected branch is never the default branch). */
  readonly identity?: string;
  /** Literal values it is known not to have. */
  readonly excludes?: readonly string[];
  /** It may also be unset or empty (a user's variable); otherwise it is a non-empty string. */
  readonly maybeUnset?: boolean;
}

export type Value = string | null | Unknown;

/** What a pipeline kind tells about its variables; `otherwise` answers for every variable not listed. */
export interface Context {
  readonly variables: Readonly<Record<string, Value>>;
  readonly otherwise: Value;
}

const isUnknown = (v: Value): v is Unknown => typeof v === "object" && v !== null;

const not = (t: Truth): Truth => (t === "maybe" ? t : !t);
const and = (a: Truth, b: Truth): Truth => (a === false || b === false ? false : a === true && b === true ? true : "maybe");
const or = (a: Truth, b: Truth): Truth => (a === true || b === true ? true : a === false && b === false ? false : "maybe");

function truthy(v: Value): Truth {
  if (isUnknown(v)) return v.maybeUnset ? "maybe" : true;
  return v !== null && v !== "";
}

function equal(a: Value, b: Value): Truth {
  if (!isUnknown(a) && !isUnknown(b)) return a === b;
  if (isUnknown(a) && isUnknown(b)) {
    if (a.identity !== undefined && b.identity !== undefined) return a.identity === b.identity;
    return "maybe";
  }
  const u = (isUnknown(a) ? a : b) as Unknown;
  const known = (isUnknown(a) ? b : a) as string | null;
  if (known === null || known === "") return u.maybeUnset ? "maybe" : false;
  return u.excludes?.includes(known) ? false : "maybe";
}

function matches(v: Value, pattern: RegExp): Truth {
  if (isUnknown(v)) return "maybe";
  return v !== null && pattern.test(v);
}

type Token =
  | { kind: "var"; name: string }
  | { kind: "str"; value: string }
  | { kind: "null" }
  | { kind: "regex"; pattern: RegExp }
  | { kind: "op"; op: "==" | "!=" | "=~" | "!~" | "&&" | "||" | "(" | ")" };

const TOKEN =
  /\s*(?:\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|"([^"]*)"|'([^']*)'|(null)\b|\/((?:\\.|[^/\\])*)\/([a-z]*)|(==|!=|=~|!~|&&|\|\||\(|\)))/y;

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(text);
    if (!m) return undefined;
    if (m[1] !== undefined) tokens.push({ kind: "var", name: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: "str", value: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: "str", value: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: "null" });
    else if (m[5] !== undefined) {
      try {
        tokens.push({ kind: "regex", pattern: new RegExp(m[5], (m[6] ?? "").replace(/[^imsu]/g, "")) });
      } catch {
        return undefined;
      }
    } else tokens.push({ kind: "op", op: m[7] as Extract<Token, { kind: "op" }>["op"] });
  }
  return tokens;
}

class Unsupported extends Error {}

/** Recursive descent: or := and ('||' and)*; and := cmp ('&&' cmp)*; cmp := operand (op operand)? | '(' or ')'. */
function evaluateTokens(tokens: Token[], context: Context): Truth {
  let i = 0;
  const peekOp = () => {
    const t = tokens[i];
    return t?.kind === "op" ? t.op : undefined;
  };
  const operand = (t: Token | undefined): Value => {
    if (t?.kind === "var") return t.name in context.variables ? (context.variables[t.name] as Value) : context.otherwise;
    if (t?.kind === "str") return t.value;
    if (t?.kind === "null") return null;
    throw new Unsupported();
  };
  const comparison = (): Truth => {
    if (peekOp() === "(") {
      i++;
      const inner = disjunction();
      if (peekOp() !== ")") throw new Unsupported();
      i++;
      return inner;
    }
    const left = operand(tokens[i++]);
    const op = peekOp();
    if (op === "==" || op === "!=") {
      i++;
      const right = operand(tokens[i++]);
      return op === "==" ? equal(left, right) : not(equal(left, right));
    }
    if (op === "=~" || op === "!~") {
      i++;
      const t = tokens[i++];
      if (t?.kind !== "regex") throw new Unsupported(); // a regex in a variable: not modelled
      return op === "=~" ? matches(left, t.pattern) : not(matches(left, t.pattern));
    }
    return truthy(left);
  };
  const conjunction = (): Truth => {
    let t = comparison();
    while (peekOp() === "&&") {
      i++;
      t = and(t, comparison());
    }
    return t;
  };
  function disjunction(): Truth {
    let t = conjunction();
    while (peekOp() === "||") {
      i++;
      t = or(t, conjunction());
    }
    return t;
  }
  const result = disjunction();
  if (i !== tokens.length) throw new Unsupported();
  return result;
}

/** Whether `expression` holds in `context`; "maybe" when it depends on what the context leaves open, or cannot be parsed. */
export function evaluateIf(expression: string, context: Context): Truth {
  const tokens = tokenize(expression);
  if (!tokens || tokens.length === 0) return "maybe";
  try {
    return evaluateTokens(tokens, context);
  } catch (e) {
    if (e instanceof Unsupported) return "maybe";
    throw e;
  }
}
