#pragma once

#include <string>
#include <vector>

namespace weft::sqlite {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

// Every schema change, oldest first. Never edit a released migration: add a new one.
const std::vector<Migration>& Migrations();

}  // namespace weft::sqlite
