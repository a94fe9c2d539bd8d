#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace weft::engine {

struct FormulaSpec;

// One step of a reference path: `.name`, `['odd key']` or `[3]`.
struct PathStep {
    std::string key;
    bool is_index = false;
    std::int64_t index = 0;
};

// `$.root.step[0]...`: steps[0] names the root (a block id, `inputs`, `variables`, `start`, `run`).
struct Reference {
    std::vector<PathStep> steps;
    std::string text;  // as written, for messages
};

struct Expr;

struct FormulaCall {
    const FormulaSpec* spec = nullptr;
    std::vector<Expr> args;
};

// A parsed expression: a literal, a reference or a formula call. Built once, evaluated many times.
struct Expr {
    std::variant<json::value, Reference, FormulaCall> node;
};

// A string field. `parts` alternate literal text and expressions; `whole` is true when the string
// is exactly one expression, so its value keeps its JSON type.
struct Template {
    std::vector<std::variant<std::string, Expr>> parts;
    bool whole = false;

    // True when the template holds no expression at all.
    bool IsText() const { return parts.empty() || (parts.size() == 1 && parts[0].index() == 0); }
    // The text of a template without expressions ("" when empty).
    std::string_view Text() const;
};

struct ValueTemplateMember;

// A JSON value whose strings are templates (bodies, headers, query objects, inputs).
struct ValueTemplate {
    using Array = std::vector<ValueTemplate>;
    // A named struct rather than std::pair: a pair of a still-incomplete type is ill-formed for clang.
    using Object = std::vector<ValueTemplateMember>;
    std::variant<json::value, Template, Array, Object> node;
};

struct ValueTemplateMember {
    std::string first;  // the key
    ValueTemplate second;
};

// Parses a template. The error message says what is wrong and where ("at character 7").
Result<Template> ParseTemplate(std::string_view text);

// Compiles every string inside `v` as a template. On failure `error_path` receives the path of the
// faulty string relative to `v` (".a[2]" style, empty for `v` itself).
Result<ValueTemplate> CompileValue(const json::value& v, std::string& error_path);

// Every reference in a template / value template, in order of appearance.
void CollectReferences(const Template& t, std::vector<const Reference*>& out);
void CollectReferences(const ValueTemplate& t, std::vector<const Reference*>& out);

// Every formula call (nested ones too), in order of appearance.
void CollectFormulaCalls(const ValueTemplate& t, std::vector<const FormulaCall*>& out);

// True when a template is exactly one literal (so its value is known at save time).
const json::value* ConstantValue(const Template& t);

}  // namespace weft::engine
