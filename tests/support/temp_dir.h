#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "core/clock.h"

namespace weft::testing {

// A fresh folder under the system temp dir, removed with everything in it when the object goes away.
class TempDir {
  public:
    TempDir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("weft-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::string File(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

// A clock tests move by hand.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(Micros start = 1'795'851'521'000'000) : now_(start) {}
    Micros Now() const override { return now_; }
    void Advance(Micros by) { now_ += by; }

  private:
    Micros now_;
};

}  // namespace weft::testing
