#include "core/json.h"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace weft {

Result<json::value> ParseJson(std::string_view text, std::size_t max_depth) {
    json::parse_options opts;
    opts.max_depth = max_depth;
    opts.allow_comments = false;
    opts.allow_trailing_commas = false;
    opts.allow_invalid_utf8 = false;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, {}, opts);
    if (!ec) return v;
    if (ec == json::error::too_deep) {
        return Error::Invalid("The JSON body is nested more than " + std::to_string(max_depth) + " levels deep.");
    }
    if (ec == json::error::syntax && !text.empty()) {
        // Boost.JSON reports invalid UTF-8 as a syntax error; tell the caller which one it is.
        json::parse_options lax = opts;
        lax.allow_invalid_utf8 = true;
        boost::system::error_code ec2;
        (void)json::parse(text, ec2, {}, lax);
        if (!ec2) return Error::Invalid("The JSON body is not valid UTF-8.");
    }
    if (text.empty()) return Error::Invalid("The request body is empty; a JSON document was expected.");
    return Error::Invalid("The request body is not valid JSON: " + ec.message() + ".");
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

const json::value* Find(const json::object& obj, std::string_view key) { return obj.if_contains(key); }

}  // namespace weft
