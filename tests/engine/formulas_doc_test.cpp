// Runs every example row of docs/formulas.md, so the documentation cannot drift from the engine.

#include <cmath>
#include <set>

#include "engine/expr.h"
#include "engine/formula.h"
#include "engine/value.h"
#include "test_support.h"

namespace weft::engine::testing {
namespace {

struct DocExample {
    std::string name;
    std::string example;
    std::string result;
    int line = 0;
};

std::string Trim(std::string s) {
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

std::string Unquote(const std::string& cell) {
    if (cell.size() >= 2 && cell.front() == '`' && cell.back() == '`') return cell.substr(1, cell.size() - 2);
    return {};
}

// Rows like "| `name` | `example` | `result` |".
std::vector<DocExample> LoadExamples() {
    std::vector<DocExample> out;
    std::istringstream in(ReadSourceFile("docs/formulas.md"));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.rfind("| `", 0) != 0) continue;
        std::vector<std::string> cells;
        std::size_t pos = 1;
        while (pos < line.size()) {
            std::size_t bar = line.find(" |", pos);
            if (bar == std::string::npos) break;
            cells.push_back(Trim(line.substr(pos, bar - pos)));
            pos = bar + 2;
        }
        if (cells.size() != 3) continue;
        DocExample e{Unquote(cells[0]), Unquote(cells[1]), Unquote(cells[2]), n};
        if (e.name.empty() || e.example.empty() || e.result.empty()) continue;
        // The token table has the same shape; its rows have no template in the middle column.
        if (e.example.find('{') == std::string::npos) continue;
        out.push_back(std::move(e));
    }
    return out;
}

bool SameValue(const json::value& a, const json::value& b) {
    if (a.is_number() && b.is_number()) return std::fabs(*ToNumber(a) - *ToNumber(b)) < 1e-9;
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto& x = a.get_array();
        const auto& y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!SameValue(x[i], y[i])) return false;
        }
        return true;
    }
    if (a.is_object()) {
        if (a.get_object().size() != b.get_object().size()) return false;
        for (const auto& kv : a.get_object()) {
            const auto* other = b.get_object().if_contains(kv.key());
            if (other == nullptr || !SameValue(kv.value(), *other)) return false;
        }
        return true;
    }
    return a == b;
}

class FormulasDocTest : public ::testing::TestWithParam<DocExample> {};

TEST_P(FormulasDocTest, ExampleGivesDocumentedResult) {
    const auto& ex = GetParam();
    SCOPED_TRACE("docs/formulas.md line " + std::to_string(ex.line) + ": " + ex.example);
    auto tmpl = ParseTemplate(ex.example);
    ASSERT_TRUE(tmpl.ok()) << tmpl.error().message;
    MapScope scope;
    scope.roots["inputs"] = J(R"({"name": "  ada lovelace  ", "items": [3, 1, 2, 3], "price": "19.99",
        "Your name": "Grace", "user": {"first": "Ada", "last": "Lovelace", "langs": ["en", "fr"]},
        "people": [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]})");
    scope.roots["variables"] = J(R"({"count": 5})");
    FixedClock clock(kTestNow);
    FormulaContext ctx{&clock, [] { return std::string("0190f5a4-5e2b-7c3d-8e4f-123456789abc"); }};
    auto value = Evaluate(tmpl.value(), scope, ctx);
    ASSERT_TRUE(value.ok()) << value.error().message;
    auto expected = ParseJson(ex.result);
    ASSERT_TRUE(expected.ok()) << "bad expected JSON " << ex.result;
    EXPECT_TRUE(SameValue(value.value(), expected.value()))
        << "got " << S(value.value()) << ", documented " << ex.result;
}

INSTANTIATE_TEST_SUITE_P(Docs, FormulasDocTest, ::testing::ValuesIn(LoadExamples()),
                         [](const ::testing::TestParamInfo<DocExample>& p) {
                             std::string name = p.param.name + "_line" + std::to_string(p.param.line);
                             for (char& c : name) {
                                 if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
                             }
                             return name;
                         });

TEST(FormulasDoc, EveryFormulaHasAnExample) {
    std::set<std::string> documented;
    for (const auto& ex : LoadExamples()) documented.insert(ex.name);
    for (const auto& f : AllFormulas()) {
        EXPECT_TRUE(documented.contains(std::string(f.name))) << "no example for formula '" << f.name << "'";
    }
}

TEST(FormulasDoc, SpecFormulasExist) {
    for (const char* name : {"uppercase",     "lowercase",     "capitalize", "trim",   "replace",
                             "substring",     "split",         "join",       "concat", "length",
                             "pad_left",      "pad_right",     "contains",   "add",    "subtract",
                             "multiply",      "divide",        "round",      "floor",  "ceil",
                             "min",           "max",           "number",     "date",   "date_add",
                             "object",        "json",          "keys",       "values", "get",
                             "default",       "count",         "first",      "last",   "sort",
                             "unique",        "flatten",       "merge",      "pluck",  "if",
                             "not",           "and",           "or",         "equals", "is_empty",
                             "base64_encode", "base64_decode", "url_encode", "sha256", "hmac_sha256",
                             "uuid"}) {
        EXPECT_NE(FindFormula(name), nullptr) << name;
    }
}

}  // namespace
}  // namespace weft::engine::testing
