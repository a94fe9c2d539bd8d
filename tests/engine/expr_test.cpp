#include "engine/expr.h"

#include "engine/formula.h"
#include "test_support.h"

namespace weft::engine::testing {
namespace {

class ExprTest : public ::testing::Test {
  protected:
    ExprTest() {
        scope_.roots["inputs"] = J(R"({"name": "Ada", "n": 3, "tags": ["x", "y"], "odd key": {"a b": 1},
                                      "Your name": "Grace"})");
        scope_.roots["getUser"] = J(R"({"body": {"items": [{"name": "first"}, {"name": "second"}]}})");
        scope_.roots["variables"] = J(R"({"total": 10})");
    }

    json::value Eval(std::string_view text) {
        auto t = ParseTemplate(text);
        EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
        if (!t.ok()) return nullptr;
        auto v = Evaluate(t.value(), scope_, ctx_);
        EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message);
        return v.ok() ? v.value() : json::value();
    }

    std::string ParseError(std::string_view text) {
        auto t = ParseTemplate(text);
        EXPECT_FALSE(t.ok()) << text;
        return t.ok() ? "" : t.error().message;
    }

    MapScope scope_;
    FixedClock clock_{kTestNow};
    FormulaContext ctx_{&clock_, [] { return std::string("u-1"); }};
};

TEST_F(ExprTest, PlainTextIsText) {
    auto t = ParseTemplate("just text");
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(t->IsText());
    EXPECT_EQ(Eval("just text"), json::value("just text"));
    EXPECT_EQ(Eval(""), json::value(""));
}

TEST_F(ExprTest, WholeExpressionKeepsJsonType) {
    EXPECT_EQ(Eval("{$.inputs.n}"), json::value(3));
    EXPECT_EQ(Eval("{$.inputs.tags}"), J(R"(["x","y"])"));
    EXPECT_EQ(Eval("{$.getUser.body}"), J(R"({"items": [{"name": "first"}, {"name": "second"}]})"));
    EXPECT_EQ(Eval("{true}"), json::value(true));
    EXPECT_EQ(Eval("{null}"), json::value(nullptr));
    EXPECT_EQ(Eval("{-2.5}"), json::value(-2.5));
}

TEST_F(ExprTest, MixedTextGivesStringWithJsonForStructures) {
    EXPECT_EQ(Eval("n={$.inputs.n}"), json::value("n=3"));
    EXPECT_EQ(Eval("tags: {$.inputs.tags}"), json::value(R"(tags: ["x","y"])"));
    EXPECT_EQ(Eval(" {$.inputs.n}"), json::value(" 3"));
    EXPECT_EQ(Eval("{$.inputs.name}{$.inputs.n}"), json::value("Ada3"));
    EXPECT_EQ(Eval("missing=[{$.inputs.nope}]"), json::value("missing=[]"));
}

TEST_F(ExprTest, EscapedBraceIsLiteral) {
    EXPECT_EQ(Eval(R"(\{"a": 1})"), json::value(R"({"a": 1})"));
    EXPECT_EQ(Eval(R"(\{{$.inputs.name}})"), json::value("{Ada}"));
    EXPECT_EQ(Eval(R"(a\b)"), json::value(R"(a\b)"));
}

TEST_F(ExprTest, ReferencePaths) {
    EXPECT_EQ(Eval("{$.getUser.body.items[0].name}"), json::value("first"));
    EXPECT_EQ(Eval("{$.getUser.body.items[-1].name}"), json::value("second"));
    EXPECT_EQ(Eval("{$.getUser.body.items.1.name}"), json::value("second"));
    EXPECT_EQ(Eval("{$.inputs['odd key']['a b']}"), json::value(1));
    EXPECT_EQ(Eval(R"({$.inputs["odd key"].'a b'})"), json::value(1));
    EXPECT_EQ(Eval("{$.inputs.'Your name'}"), json::value("Grace"));
    EXPECT_EQ(Eval("{$.variables.total}"), json::value(10));
}

TEST_F(ExprTest, UnresolvedPathIsNull) {
    EXPECT_EQ(Eval("{$.nobody}"), json::value(nullptr));
    EXPECT_EQ(Eval("{$.getUser.body.items[5].name}"), json::value(nullptr));
    EXPECT_EQ(Eval("{$.inputs.name.deeper}"), json::value(nullptr));
    EXPECT_EQ(Eval("{$.inputs.tags.key}"), json::value(nullptr));
}

TEST_F(ExprTest, NestedFormulasAndLiterals) {
    EXPECT_EQ(Eval("{uppercase: {trim: '  ada '}}"), json::value("ADA"));
    EXPECT_EQ(Eval(R"({concat: "a", 'b', 1, true, null})"), json::value("ab1true"));
    EXPECT_EQ(Eval(R"({concat: 'it\'s'})"), json::value("it's"));
    EXPECT_EQ(Eval("{add: $.inputs.n, {multiply: 2, 3}}"), json::value(9));
    EXPECT_EQ(Eval("Hi {uppercase: $.inputs.name}!"), json::value("Hi ADA!"));
    EXPECT_EQ(Eval("{uuid}"), json::value("u-1"));
    EXPECT_EQ(Eval("{uuid:}"), json::value("u-1"));
    EXPECT_EQ(Eval("{ add : 1 , 2 }"), json::value(3));
    EXPECT_EQ(Eval("{object: '{\"a\": [1]}'}"), J(R"({"a": [1]})"));
}

TEST_F(ExprTest, ParseFaults) {
    EXPECT_NE(ParseError("{nosuch: 1}").find("unknown formula 'nosuch'"), std::string::npos);
    EXPECT_NE(ParseError("{trim: 'a', 'b'}").find("formula 'trim' takes 1 argument, got 2"), std::string::npos);
    EXPECT_NE(ParseError("{replace: 'a'}").find("takes 3 arguments, got 1"), std::string::npos);
    EXPECT_NE(ParseError("{substring}").find("takes 2 to 3 arguments, got 0"), std::string::npos);
    EXPECT_NE(ParseError("{$.a").find("unclosed"), std::string::npos);
    EXPECT_NE(ParseError("{'abc}").find("unterminated string"), std::string::npos);
    EXPECT_NE(ParseError("{$}").find("reference"), std::string::npos);
    EXPECT_NE(ParseError("{$.a[x]}").find("index"), std::string::npos);
    EXPECT_NE(ParseError("{hello}").find("bare word 'hello'"), std::string::npos);
    EXPECT_NE(ParseError("{trim: trim: 'a'}").find("own braces"), std::string::npos);
    EXPECT_NE(ParseError("{add: 1 2}").find("expected ',' or '}'"), std::string::npos);
    EXPECT_NE(ParseError("x {1.2.3}").find("malformed number"), std::string::npos);
    EXPECT_NE(ParseError("{}").find("empty expression"), std::string::npos);
}

TEST_F(ExprTest, NestingIsBounded) {
    auto nest = [](int depth) {
        std::string t = "{";
        for (int i = 0; i < depth; ++i) t += "trim: {";
        t += "'x'";
        for (int i = 0; i < depth; ++i) t += "}";
        return t + "}";
    };
    EXPECT_EQ(Eval(nest(60)), json::value("x"));
    EXPECT_NE(ParseError(nest(100000)).find("formulas nest more than 64 deep"), std::string::npos);
}

TEST_F(ExprTest, ParseFaultsGivePositions) {
    EXPECT_NE(ParseError("abc {nosuch: 1}").find("at character 6"), std::string::npos);
}

TEST_F(ExprTest, CompileValueTemplatesNestedStrings) {
    std::string path;
    auto t = CompileValue(J(R"({"a": "{$.inputs.n}", "b": ["x{$.inputs.name}", 2], "c": {"d": null}})"), path);
    ASSERT_TRUE(t.ok());
    auto v = Evaluate(t.value(), scope_, ctx_);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value(), J(R"({"a": 3, "b": ["xAda", 2], "c": {"d": null}})"));
    auto bad = CompileValue(J(R"({"a": {"b": ["ok", "{nope: 1}"]}})"), path);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(path, ".a.b[1]");
}

TEST_F(ExprTest, CollectsReferences) {
    auto t = ParseTemplate("{concat: $.a.b, {trim: $.c}} and {$.d[0]}");
    ASSERT_TRUE(t.ok());
    std::vector<const Reference*> refs;
    CollectReferences(t.value(), refs);
    ASSERT_EQ(refs.size(), 3u);
    EXPECT_EQ(refs[0]->steps[0].key, "a");
    EXPECT_EQ(refs[0]->text, "$.a.b");
    EXPECT_EQ(refs[1]->steps[0].key, "c");
    EXPECT_EQ(refs[2]->steps[1].is_index, true);
}

TEST_F(ExprTest, EvaluationDoesNotReparse) {
    // The same compiled template gives fresh values as the scope changes.
    auto t = ParseTemplate("{add: $.variables.total, 1}");
    ASSERT_TRUE(t.ok());
    for (int i = 0; i < 3; ++i) {
        scope_.roots["variables"] = json::object{{"total", i}};
        auto v = Evaluate(t.value(), scope_, ctx_);
        ASSERT_TRUE(v.ok());
        EXPECT_EQ(v.value(), json::value(i + 1));
    }
}

}  // namespace
}  // namespace weft::engine::testing
