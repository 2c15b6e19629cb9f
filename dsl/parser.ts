// The grammar of .lft recipes: one rule per construct, as class properties (Chevrotain's CstParser).
// It reads as the language reference:
//
//   recipe     = statement*
//   statement  = use | let | model | dataset | method | train | eval | predict | export | chat
//   use        = "use" STRING                              load a plugin package
//   let        = "let" NAME "=" value                      a binding, used as ${name}
//   model      = "model" [family] STRING [body]            family defaults to config.json's
//   dataset    = "dataset" [format] STRING [body]          repeat to mix several sources
//   method     = "method" NAME [body]
//   train      = "train" [stage] [duration] [body]
//   duration   = ["for"] NUMBER ("epochs" | "steps")
//   eval       = "eval" [format] [STRING] [body]
//   predict    = "predict" [format] STRING [body]
//   export     = "export" STRING [body]
//   chat       = "chat" [STRING] [body]
//   body       = "{" (entry [","])* "}"                    entries on their own lines or comma-separated
//   entry      = NAME "=" value
//   value      = quantity | STRING | true | false | ${ref} | NAME | list
//   quantity   = NUMBER ["%" | "epochs" | "steps" | "tokens"]
//   list       = "[" [value ("," value)* [","]] "]"
//
// Whitespace and newlines are insignificant; `#` starts a comment. Semantics live in check.ts.

import { CstParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import { didYouMean, suggest } from "../core/index.ts";
import {
  allTokens,
  Chat,
  Comma,
  Dataset,
  Epochs,
  Equals,
  Eval,
  Export,
  False,
  For,
  Identifier,
  LBrace,
  LBracket,
  Let,
  Method,
  Model,
  Name,
  NumberLiteral,
  Percent,
  Predict,
  RBrace,
  RBracket,
  Reference,
  Steps,
  StringLiteral,
  statementKeywords,
  Train,
  True,
  Unit,
  UnterminatedString,
  Use,
} from "./lexer";

/** What each rule is called in messages ("expected a string in a model block"). */
const ruleNames: Readonly<Record<string, string>> = {
  recipe: "the recipe",
  statement: "a statement",
  useStatement: "a use statement",
  letStatement: "a let binding",
  modelBlock: "a model block",
  datasetBlock: "a dataset block",
  methodBlock: "a method block",
  trainBlock: "a train block",
  duration: "a duration",
  evalBlock: "an eval block",
  predictBlock: "a predict block",
  exportBlock: "an export block",
  chatBlock: "a chat block",
  body: "an option block",
  entry: "an option",
  value: "a value",
  quantity: "a number",
  list: "a list",
};

export function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return "the end of the statement";
  if (token.tokenType === UnterminatedString) return "a string with no closing quote";
  return JSON.stringify(token.image);
}

function labelOf(type: TokenType): string {
  return type.LABEL ?? type.name;
}

function oneOf(labels: readonly string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length <= 1) return unique[0] ?? "something else";
  return `${unique.slice(0, -1).join(", ")} or ${unique.at(-1)}`;
}

/** Messages that say what was expected, what was found and in which construct. */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    if (expected === EOF) return messages.buildNotAllInputParsedMessage({ firstRedundant: actual, ruleName });
    return `expected ${labelOf(expected)} in ${ruleNames[ruleName] ?? ruleName}, found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    const hint = didYouMean(suggest(firstRedundant.image, statementKeywords));
    return `expected a statement (${statementKeywords.join(", ")}), found ${describeToken(firstRedundant)}${hint}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    if (ruleName === "statement" && actual[0] !== undefined) return messages.buildNotAllInputParsedMessage({ firstRedundant: actual[0], ruleName });
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => (path[0] === undefined ? "" : labelOf(path[0]))));
    const found = actual[0] === undefined ? "nothing" : describeToken(actual[0]);
    return `expected ${oneOf(firsts.filter((s) => s !== ""))} for ${ruleNames[ruleName] ?? ruleName}, found ${found}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const firsts = expectedIterationPaths.map((path) => (path[0] === undefined ? "" : labelOf(path[0])));
    const found = actual[0] === undefined ? "nothing" : describeToken(actual[0]);
    return `expected ${oneOf(firsts)} in ${ruleNames[ruleName] ?? ruleName}, found ${found}`;
  },
};

export class RecipeParser extends CstParser {
  constructor() {
    super(allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 3, nodeLocationTracking: "full" });
    this.performSelfAnalysis();
  }

  recipe = this.RULE("recipe", () => {
    this.MANY(() => this.SUBRULE(this.statement));
  });

  statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.useStatement) },
      { ALT: () => this.SUBRULE(this.letStatement) },
      { ALT: () => this.SUBRULE(this.modelBlock) },
      { ALT: () => this.SUBRULE(this.datasetBlock) },
      { ALT: () => this.SUBRULE(this.methodBlock) },
      { ALT: () => this.SUBRULE(this.trainBlock) },
      { ALT: () => this.SUBRULE(this.evalBlock) },
      { ALT: () => this.SUBRULE(this.predictBlock) },
      { ALT: () => this.SUBRULE(this.exportBlock) },
      { ALT: () => this.SUBRULE(this.chatBlock) },
    ]);
  });

  useStatement = this.RULE("useStatement", () => {
    this.CONSUME(Use);
    this.CONSUME(StringLiteral, { LABEL: "package" });
  });

  letStatement = this.RULE("letStatement", () => {
    this.CONSUME(Let);
    this.CONSUME(Identifier, { LABEL: "name" });
    this.CONSUME(Equals);
    this.SUBRULE(this.value);
  });

  modelBlock = this.RULE("modelBlock", () => {
    this.CONSUME(Model);
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "kind" }));
    this.CONSUME(StringLiteral, { LABEL: "source" });
    this.OPTION2(() => this.SUBRULE(this.body));
  });

  datasetBlock = this.RULE("datasetBlock", () => {
    this.CONSUME(Dataset);
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "kind" }));
    this.CONSUME(StringLiteral, { LABEL: "source" });
    this.OPTION2(() => this.SUBRULE(this.body));
  });

  methodBlock = this.RULE("methodBlock", () => {
    this.CONSUME(Method);
    this.CONSUME(Identifier, { LABEL: "kind" });
    this.OPTION(() => this.SUBRULE(this.body));
  });

  trainBlock = this.RULE("trainBlock", () => {
    this.CONSUME(Train);
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "kind" }));
    this.OPTION2(() => this.SUBRULE(this.duration));
    this.OPTION3(() => this.SUBRULE(this.body));
  });

  duration = this.RULE("duration", () => {
    this.OPTION(() => this.CONSUME(For));
    this.CONSUME(NumberLiteral, { LABEL: "amount" });
    this.OR([{ ALT: () => this.CONSUME(Epochs, { LABEL: "unit" }) }, { ALT: () => this.CONSUME(Steps, { LABEL: "unit" }) }]);
  });

  evalBlock = this.RULE("evalBlock", () => {
    this.CONSUME(Eval);
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "kind" }));
    this.OPTION2(() => this.CONSUME(StringLiteral, { LABEL: "source" }));
    this.OPTION3(() => this.SUBRULE(this.body));
  });

  predictBlock = this.RULE("predictBlock", () => {
    this.CONSUME(Predict);
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "kind" }));
    this.CONSUME(StringLiteral, { LABEL: "source" });
    this.OPTION2(() => this.SUBRULE(this.body));
  });

  exportBlock = this.RULE("exportBlock", () => {
    this.CONSUME(Export);
    this.CONSUME(StringLiteral, { LABEL: "source" });
    this.OPTION(() => this.SUBRULE(this.body));
  });

  chatBlock = this.RULE("chatBlock", () => {
    this.CONSUME(Chat);
    this.OPTION(() => this.CONSUME(StringLiteral, { LABEL: "source" }));
    this.OPTION2(() => this.SUBRULE(this.body));
  });

  body = this.RULE("body", () => {
    this.CONSUME(LBrace);
    this.MANY(() => {
      this.SUBRULE(this.entry);
      this.OPTION(() => this.CONSUME(Comma));
    });
    this.CONSUME(RBrace);
  });

  entry = this.RULE("entry", () => {
    this.CONSUME(Name, { LABEL: "key" });
    this.CONSUME(Equals);
    this.SUBRULE(this.value);
  });

  value = this.RULE("value", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.quantity) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.CONSUME(Reference) },
      { ALT: () => this.CONSUME(Name) },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  quantity = this.RULE("quantity", () => {
    this.CONSUME(NumberLiteral);
    // `batch = 8` followed by an option named `steps` on the next line: a unit never precedes "=".
    this.OPTION({
      GATE: () => this.LA(2).tokenType !== Equals,
      DEF: () => this.OR([{ ALT: () => this.CONSUME(Percent, { LABEL: "unit" }) }, { ALT: () => this.CONSUME(Unit, { LABEL: "unit" }) }]),
    });
  });

  list = this.RULE("list", () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.value);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== RBracket,
        DEF: () => {
          this.CONSUME(Comma);
          this.SUBRULE2(this.value);
        },
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });
}

/** One parser for the process: Chevrotain parsers are reusable and costly to construct. */
export const recipeParser = new RecipeParser();
