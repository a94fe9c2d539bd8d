#include <cctype>
#include <charconv>

#include "engine/expr.h"
#include "engine/formula.h"

namespace weft::engine {

namespace {

constexpr int kMaxNesting = 64;

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsKeyChar(char c) { return IsIdentChar(c) || c == '-'; }

std::string ArityText(const FormulaSpec& f) {
    auto plural = [](int n) { return n == 1 ? std::string(" argument") : std::string(" arguments"); };
    if (f.max_args == kVariadic) return "at least " + std::to_string(f.min_args) + plural(f.min_args);
    if (f.min_args == f.max_args) return std::to_string(f.min_args) + plural(f.min_args);
    return std::to_string(f.min_args) + " to " + std::to_string(f.max_args) + " arguments";
}

// Recursive-descent parser for the inside of one `{...}`.
class ExprParser {
  public:
    ExprParser(std::string_view text, std::size_t pos) : text_(text), pos_(pos) {}

    std::size_t pos() const { return pos_; }

    // Parses what follows an opening brace, up to and including its closing brace.
    Result<Expr> ParseBraced() {
        SkipSpace();
        if (Peek() == '}') return Fail("empty expression '{}' (write \\{ for a literal brace)");
        std::size_t save = pos_;
        if (pos_ < text_.size() && IsIdentStart(text_[pos_])) {
            std::string name = ReadIdent();
            SkipSpace();
            if (Peek() == ':') {
                ++pos_;
                return ParseFormula(name, save, true);
            }
            if (Peek() == '}' && FindFormula(name) != nullptr) {
                ++pos_;
                return ParseFormulaNoArgs(name, save);
            }
            pos_ = save;
        }
        auto operand = ParseOperand();
        if (!operand) return operand;
        SkipSpace();
        if (Peek() != '}') return Fail("expected '}'");
        ++pos_;
        return operand;
    }

  private:
    char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void SkipSpace() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
    }
    std::string ReadIdent() {
        std::size_t start = pos_;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        return std::string(text_.substr(start, pos_ - start));
    }
    Error Fail(std::string what) const {
        if (pos_ >= text_.size()) return Error::Invalid(what + " but the template ended (unclosed '{'?)");
        return Error::Invalid(what + " at character " + std::to_string(pos_ + 1));
    }

    Result<Expr> ParseFormulaNoArgs(const std::string& name, std::size_t at) {
        const FormulaSpec* spec = FindFormula(name);
        if (spec->min_args > 0) {
            pos_ = at;
            return Fail("formula '" + name + "' takes " + ArityText(*spec) + ", got 0,");
        }
        return Expr{FormulaCall{spec, {}}};
    }

    // After `name:`; consumes the closing brace when `braced`.
    Result<Expr> ParseFormula(const std::string& name, std::size_t at, bool braced) {
        const FormulaSpec* spec = FindFormula(name);
        if (spec == nullptr) {
            pos_ = at;
            return Fail("unknown formula '" + name + "'");
        }
        FormulaCall call{spec, {}};
        SkipSpace();
        if (Peek() != '}') {
            while (true) {
                auto arg = ParseOperand();
                if (!arg) return arg;
                call.args.push_back(std::move(arg.value()));
                SkipSpace();
                if (Peek() == ',') {
                    ++pos_;
                    continue;
                }
                break;
            }
        }
        SkipSpace();
        if (Peek() != '}') return Fail("expected ',' or '}' in the arguments of '" + name + "'");
        if (braced) ++pos_;
        const int n = static_cast<int>(call.args.size());
        if (n < spec->min_args || (spec->max_args != kVariadic && n > spec->max_args)) {
            pos_ = at;
            return Fail("formula '" + name + "' takes " + ArityText(*spec) + ", got " + std::to_string(n) + ",");
        }
        return Expr{std::move(call)};
    }

    Result<std::string> ReadQuoted() {
        const char quote = text_[pos_++];
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            // Only \' (the quote) and \\ are escapes; other backslashes stay (date formats: 'Y-m-d\TH').
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size() &&
                (text_[pos_ + 1] == quote || text_[pos_ + 1] == '\\')) {
                ++pos_;
            }
            out += text_[pos_++];
        }
        if (pos_ >= text_.size()) return Fail("unterminated string");
        ++pos_;
        return out;
    }

    Result<Expr> ParseNumber() {
        std::size_t start = pos_;
        if (Peek() == '-') ++pos_;
        bool is_double = false;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
                ++pos_;
            } else if (c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && is_double)) {
                is_double = true;
                ++pos_;
            } else {
                break;
            }
        }
        std::string_view num = text_.substr(start, pos_ - start);
        if (!is_double) {
            std::int64_t i = 0;
            auto r = std::from_chars(num.data(), num.data() + num.size(), i);
            if (r.ec == std::errc() && r.ptr == num.data() + num.size()) return Expr{json::value(i)};
        }
        double d = 0;
        auto r = std::from_chars(num.data(), num.data() + num.size(), d);
        if (r.ec != std::errc() || r.ptr != num.data() + num.size()) {
            pos_ = start;
            return Fail("malformed number");
        }
        return Expr{json::value(d)};
    }

    Result<Expr> ParseReference() {
        std::size_t start = pos_;
        ++pos_;  // '$'
        Reference ref;
        while (true) {
            if (Peek() == '.') {
                ++pos_;
                PathStep step;
                if (Peek() == '\'' || Peek() == '"') {
                    auto q = ReadQuoted();
                    if (!q) return q.error();
                    step.key = std::move(q.value());
                } else {
                    std::size_t key_start = pos_;
                    while (pos_ < text_.size() && IsKeyChar(text_[pos_])) ++pos_;
                    if (pos_ == key_start) return Fail("expected a name after '.' in a reference");
                    step.key = std::string(text_.substr(key_start, pos_ - key_start));
                }
                ref.steps.push_back(std::move(step));
            } else if (Peek() == '[') {
                ++pos_;
                SkipSpace();
                PathStep step;
                if (Peek() == '\'' || Peek() == '"') {
                    auto q = ReadQuoted();
                    if (!q) return q.error();
                    step.key = std::move(q.value());
                } else {
                    std::size_t num_start = pos_;
                    if (Peek() == '-') ++pos_;
                    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
                    std::string_view num = text_.substr(num_start, pos_ - num_start);
                    auto r = std::from_chars(num.data(), num.data() + num.size(), step.index);
                    if (num.empty() || r.ec != std::errc()) return Fail("expected an index or a quoted key in '[...]'");
                    step.is_index = true;
                    step.key = std::string(num);
                }
                SkipSpace();
                if (Peek() != ']') return Fail("expected ']'");
                ++pos_;
                if (ref.steps.empty()) return Fail("a reference starts with '$.name'");
                ref.steps.push_back(std::move(step));
            } else {
                break;
            }
        }
        if (ref.steps.empty()) {
            pos_ = start;
            return Fail("expected '$.name' (a reference)");
        }
        ref.text = std::string(text_.substr(start, pos_ - start));
        return Expr{std::move(ref)};
    }

    Result<Expr> ParseOperand() {
        SkipSpace();
        char c = Peek();
        if (c == '$') return ParseReference();
        if (c == '\'' || c == '"') {
            auto q = ReadQuoted();
            if (!q) return q.error();
            return Expr{json::value(q.value())};
        }
        if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.') return ParseNumber();
        if (c == '{') {
            ++pos_;
            // Bounded so a hostile template cannot exhaust the stack of the server validating it.
            if (++depth_ > kMaxNesting) return Fail("formulas nest more than " + std::to_string(kMaxNesting) + " deep");
            auto nested = ParseBraced();
            --depth_;
            return nested;
        }
        if (IsIdentStart(c)) {
            std::size_t at = pos_;
            std::string word = ReadIdent();
            if (word == "true") return Expr{json::value(true)};
            if (word == "false") return Expr{json::value(false)};
            if (word == "null") return Expr{json::value(nullptr)};
            if (word == "now" || word == "today" || word == "yesterday" || word == "tomorrow") {
                return Expr{json::value(word)};
            }
            SkipSpace();
            const FormulaSpec* spec = FindFormula(word);
            if (spec != nullptr && Peek() == ':') {
                pos_ = at;
                return Fail("nested formulas need their own braces: write {" + word + ": ...}");
            }
            if (spec != nullptr) return ParseFormulaNoArgs(word, at);
            pos_ = at;
            return Fail("unknown formula or bare word '" + word + "' (quote text as 'text')");
        }
        if (c == '\0') return Fail("expected a value");
        return Fail(std::string("unexpected '") + c + "'");
    }

    std::string_view text_;
    std::size_t pos_;
    int depth_ = 0;
};

void Collect(const Expr& e, std::vector<const Reference*>& out) {
    if (const auto* r = std::get_if<Reference>(&e.node)) {
        out.push_back(r);
    } else if (const auto* f = std::get_if<FormulaCall>(&e.node)) {
        for (const auto& a : f->args) Collect(a, out);
    }
}

void CollectCalls(const Expr& e, std::vector<const FormulaCall*>& out) {
    if (const auto* f = std::get_if<FormulaCall>(&e.node)) {
        out.push_back(f);
        for (const auto& a : f->args) CollectCalls(a, out);
    }
}

}  // namespace

void CollectFormulaCalls(const ValueTemplate& t, std::vector<const FormulaCall*>& out) {
    if (const auto* tt = std::get_if<Template>(&t.node)) {
        for (const auto& p : tt->parts) {
            if (const auto* e = std::get_if<Expr>(&p)) CollectCalls(*e, out);
        }
    } else if (const auto* arr = std::get_if<ValueTemplate::Array>(&t.node)) {
        for (const auto& e : *arr) CollectFormulaCalls(e, out);
    } else if (const auto* obj = std::get_if<ValueTemplate::Object>(&t.node)) {
        for (const auto& kv : *obj) CollectFormulaCalls(kv.second, out);
    }
}

std::string_view Template::Text() const {
    if (parts.empty()) return {};
    if (const auto* s = std::get_if<std::string>(&parts[0])) return *s;
    return {};
}

Result<Template> ParseTemplate(std::string_view text) {
    Template t;
    std::string buf;
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size() && text[i + 1] == '{') {
            buf += '{';
            i += 2;
            continue;
        }
        if (c != '{') {
            buf += c;
            ++i;
            continue;
        }
        if (!buf.empty()) t.parts.emplace_back(std::move(buf));
        buf.clear();
        ExprParser p(text, i + 1);
        auto e = p.ParseBraced();
        if (!e) return e.error();
        t.parts.emplace_back(std::move(e.value()));
        i = p.pos();
    }
    if (!buf.empty()) t.parts.emplace_back(std::move(buf));
    t.whole = t.parts.size() == 1 && t.parts[0].index() == 1;
    return t;
}

Result<ValueTemplate> CompileValue(const json::value& v, std::string& error_path) {
    if (v.is_string()) {
        auto t = ParseTemplate(v.get_string());
        if (!t) return t.error();
        if (t->IsText()) return ValueTemplate{json::value(t->Text())};
        return ValueTemplate{std::move(t.value())};
    }
    if (v.is_array()) {
        ValueTemplate::Array arr;
        const auto& in = v.get_array();
        for (std::size_t i = 0; i < in.size(); ++i) {
            auto e = CompileValue(in[i], error_path);
            if (!e) {
                error_path = "[" + std::to_string(i) + "]" + error_path;
                return e.error();
            }
            arr.push_back(std::move(e.value()));
        }
        return ValueTemplate{std::move(arr)};
    }
    if (v.is_object()) {
        ValueTemplate::Object obj;
        for (const auto& kv : v.get_object()) {
            auto e = CompileValue(kv.value(), error_path);
            if (!e) {
                error_path = "." + std::string(kv.key()) + error_path;
                return e.error();
            }
            obj.push_back(ValueTemplateMember{std::string(kv.key()), std::move(e.value())});
        }
        return ValueTemplate{std::move(obj)};
    }
    return ValueTemplate{v};
}

void CollectReferences(const Template& t, std::vector<const Reference*>& out) {
    for (const auto& p : t.parts) {
        if (const auto* e = std::get_if<Expr>(&p)) Collect(*e, out);
    }
}

void CollectReferences(const ValueTemplate& t, std::vector<const Reference*>& out) {
    if (const auto* tt = std::get_if<Template>(&t.node)) {
        CollectReferences(*tt, out);
    } else if (const auto* arr = std::get_if<ValueTemplate::Array>(&t.node)) {
        for (const auto& e : *arr) CollectReferences(e, out);
    } else if (const auto* obj = std::get_if<ValueTemplate::Object>(&t.node)) {
        for (const auto& kv : *obj) CollectReferences(kv.second, out);
    }
}

const json::value* ConstantValue(const Template& t) {
    if (!t.whole) return nullptr;
    return std::get_if<json::value>(&std::get<Expr>(t.parts[0]).node);
}

}  // namespace weft::engine
