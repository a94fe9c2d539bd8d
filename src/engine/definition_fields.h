#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "engine/definition_faults.h"
#include "engine/expr.h"

namespace weft::engine {

// Reads typed fields of a definition object, recording a fault (with its path) for each bad one
// and returning a fallback so parsing can go on and report everything.
class FieldReader {
  public:
    explicit FieldReader(Faults& faults) : faults_(faults) {}

  protected:
    bool Bool(const json::object& obj, std::string_view key, const std::string& path, bool fallback) {
        const auto* v = obj.if_contains(key);
        if (v == nullptr || v->is_null()) return fallback;
        if (!v->is_bool()) {
            faults_.Add(path, "must be true or false");
            return fallback;
        }
        return v->get_bool();
    }

    std::string String(const json::object& obj, std::string_view key, const std::string& path, bool required) {
        const auto* v = obj.if_contains(key);
        if (v == nullptr || v->is_null()) {
            if (required) faults_.Add(path, "is required");
            return {};
        }
        if (!v->is_string()) {
            faults_.Add(path, "must be a string");
            return {};
        }
        return std::string(v->get_string());
    }

    std::optional<std::int64_t> Integer(const json::object& obj, std::string_view key, const std::string& path,
                                        std::int64_t min, std::int64_t max) {
        const auto* v = obj.if_contains(key);
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (!v->is_int64() || v->get_int64() < min || v->get_int64() > max) {
            faults_.Add(path, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return std::nullopt;
        }
        return v->get_int64();
    }

    std::optional<ValueTemplate> TemplateField(const json::object& obj, std::string_view key, const std::string& path,
                                               bool required, bool must_be_string = false) {
        const auto* v = obj.if_contains(key);
        if (v == nullptr) {
            if (required) faults_.Add(path, "is required");
            return std::nullopt;
        }
        if (must_be_string && !v->is_string()) {
            faults_.Add(path, "must be a string (template)");
            return std::nullopt;
        }
        std::string sub;
        auto t = CompileValue(*v, sub);
        if (!t) {
            faults_.Add(path + sub, t.error().message);
            return std::nullopt;
        }
        return std::move(t.value());
    }

    std::optional<ValueTemplate> ObjectTemplate(const json::object& obj, std::string_view key,
                                                const std::string& path) {
        const auto* v = obj.if_contains(key);
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (!v->is_object() && !v->is_string()) {
            faults_.Add(path, "must be an object");
            return std::nullopt;
        }
        return TemplateField(obj, key, path, false);
    }

    Faults& faults_;
};

}  // namespace weft::engine
