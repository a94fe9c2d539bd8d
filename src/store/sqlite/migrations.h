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

// The highest version this binary knows (a database above it is refused).
int LatestVersion();

}  // namespace weft::sqlite
