// The pages of datasource authorisation (api/oauth.cpp).
#include <gtest/gtest.h>

#include "api/oauth.h"

namespace weft::api {
namespace {

const std::string* Header(const http::Response& r, const std::string& name) {
    return http::FindHeader(r.headers, name);
}

TEST(OAuthPages, RedirectHasLocationNoBodyAndKeepsTheTokenOutOfReferrerAndCaches) {
    connectors::FlowPage p;
    p.status = 302;
    p.location = "https://auth.example.com/authorize?state=s";
    auto r = FlowResponse(p);
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(*Header(r, "Location"), p.location);
    EXPECT_EQ(*Header(r, "Referrer-Policy"), "no-referrer");
    EXPECT_EQ(*Header(r, "Cache-Control"), "no-store");
    EXPECT_TRUE(r.body.empty());
}

TEST(OAuthPages, ConnectedPageTellsItsOpenerAndCloses) {
    connectors::FlowPage p;
    p.connected = true;
    p.datasource_guid = "0190aaaa-0000-7000-8000-000000000001";
    p.message = "The Slack datasource \"Team <1>\" is connected.";
    auto r = FlowResponse(p);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("window.opener.postMessage(message, '*')"), std::string::npos);
    EXPECT_NE(r.body.find("{type: 'weft:datasource-connected', guid: \"0190aaaa-0000-7000-8000-000000000001\"}"),
              std::string::npos);
    EXPECT_NE(r.body.find("window.close()"), std::string::npos);
    EXPECT_NE(r.body.find("&quot;Team &lt;1&gt;&quot; is connected. You can close this window."), std::string::npos);
}

TEST(OAuthPages, ErrorPagesEscapeTheMessageInHtmlAndInScript) {
    connectors::FlowPage p;
    p.status = 400;
    p.datasource_guid = "g";
    p.message = "Access was not granted: </script><script>alert(1)</script> & 'more'";
    auto r = FlowResponse(p);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.find("</script><script>alert"), std::string::npos);
    EXPECT_NE(r.body.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;more&#39;"),
              std::string::npos);
    EXPECT_NE(r.body.find("\\u003c/script\\u003e"), std::string::npos);
    EXPECT_NE(r.body.find("weft:datasource-error"), std::string::npos);
    EXPECT_EQ(r.body.find("window.close()"), std::string::npos);
    // Without a known datasource there is nothing to tell the opener.
    p.datasource_guid.clear();
    EXPECT_EQ(FlowResponse(p).body.find("<script>"), std::string::npos);
}

TEST(OAuthPages, HtmlEscape) {
    EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace weft::api
