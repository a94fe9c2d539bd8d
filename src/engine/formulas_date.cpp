#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "engine/formula.h"
#include "engine/formula_util.h"

namespace weft::engine {

namespace {

using Args = std::span<const json::value>;
using std::chrono::microseconds;
using Instant = date::sys_time<microseconds>;

const char* const kDayNames[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
const char* const kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

Result<const date::time_zone*> Zone(const json::value& v, const char* formula) {
    std::string name = v.is_null() ? std::string("UTC") : ToText(v);
    if (name.empty()) name = "UTC";
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return FormulaError(formula, "unknown time zone '" + name + "'");
    }
}

bool Digits(std::string_view s, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    for (std::size_t i = pos; i < pos + len; ++i) {
        if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
    }
    std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return true;
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|+HH:MM|+HHMM]; no offset means UTC.
std::optional<Instant> ParseIso(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!Digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
        !Digits(s, 8, 2, d)) {
        return std::nullopt;
    }
    const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                   date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    std::size_t pos = 10;
    std::int64_t frac_us = 0;
    if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
        if (!Digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, mi)) {
            return std::nullopt;
        }
        pos += 6;
        if (pos < s.size() && s[pos] == ':') {
            if (!Digits(s, pos + 1, 2, sec)) return std::nullopt;
            pos += 3;
            if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
                ++pos;
                std::int64_t scale = 100000;
                while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) != 0) {
                    frac_us += (s[pos] - '0') * scale;
                    scale /= 10;
                    ++pos;
                }
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (pos < s.size()) {
        if (s[pos] == 'Z' || s[pos] == 'z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            int oh = 0, om = 0;
            const int sign = s[pos] == '-' ? -1 : 1;
            if (!Digits(s, pos + 1, 2, oh)) return std::nullopt;
            pos += 3;
            if (pos < s.size() && s[pos] == ':') ++pos;
            if (!Digits(s, pos, 2, om)) return std::nullopt;
            pos += 2;
            offset_s = sign * (oh * 3600 + om * 60);
        }
    }
    if (pos != s.size()) return std::nullopt;
    return Instant{date::sys_days{ymd}} + std::chrono::hours{h} + std::chrono::minutes{mi} +
           std::chrono::seconds{sec - offset_s} + microseconds{frac_us};
}

Result<Instant> ParseInstant(const json::value& v, const date::time_zone* zone, const FormulaContext& ctx,
                             const char* formula) {
    const Instant now{microseconds{ctx.clock != nullptr ? ctx.clock->Now() : 0}};
    if (v.is_null()) return FormulaError(formula, "the date is empty");
    if (v.is_number()) {
        return Instant{microseconds{static_cast<std::int64_t>(std::llround(*ToNumber(v) * 1e6))}};
    }
    const std::string s = ToText(v);
    if (s == "now") return now;
    if (s == "today" || s == "yesterday" || s == "tomorrow") {
        const auto local = date::zoned_time<microseconds>{zone, now}.get_local_time();
        auto day = date::floor<date::days>(local);
        if (s == "yesterday") day -= date::days{1};
        if (s == "tomorrow") day += date::days{1};
        return date::zoned_time<microseconds>{zone, day, date::choose::earliest}.get_sys_time();
    }
    if (auto n = ToNumber(v); n) return Instant{microseconds{static_cast<std::int64_t>(std::llround(*n * 1e6))}};
    if (auto t = ParseIso(s); t) return *t;
    return FormulaError(formula, "'" + s + "' is not a date (use an ISO date, an epoch, now, today, ...)");
}

std::string Two(long v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02ld", v);
    return buf;
}

std::string Offset(std::chrono::seconds off, bool colon) {
    const long total = static_cast<long>(off.count());
    const long a = total < 0 ? -total : total;
    return std::string(total < 0 ? "-" : "+") + Two(a / 3600) + (colon ? ":" : "") + Two((a % 3600) / 60);
}

std::string Format(Instant t, const date::time_zone* zone, std::string_view fmt) {
    const date::zoned_time<microseconds> zt{zone, t};
    const auto info = zt.get_info();
    const auto local = zt.get_local_time();
    const auto ld = date::floor<date::days>(local);
    const date::year_month_day ymd{ld};
    const date::hh_mm_ss<microseconds> hms{local - ld};
    const date::weekday wd{ld};
    const iso_week::year_weeknum_weekday iw{ld};
    const long year = static_cast<int>(ymd.year());
    const long month = static_cast<unsigned>(ymd.month());
    const long day = static_cast<unsigned>(ymd.day());
    const long hour = hms.hours().count();
    const long minute = hms.minutes().count();
    const long second = static_cast<long>(hms.seconds().count());
    const long micros = static_cast<long>(hms.subseconds().count());
    const long h12 = hour % 12 == 0 ? 12 : hour % 12;
    const unsigned wdi = wd.c_encoding();
    std::string out;
    for (std::size_t i = 0; i < fmt.size(); ++i) {
        const char c = fmt[i];
        switch (c) {
            case 'd':
                out += Two(day);
                break;
            case 'D':
                out += std::string(kDayNames[wdi]).substr(0, 3);
                break;
            case 'j':
                out += std::to_string(day);
                break;
            case 'l':
                out += kDayNames[wdi];
                break;
            case 'N':
                out += std::to_string(wd.iso_encoding());
                break;
            case 'S': {
                const long d10 = day % 10;
                out += (day >= 11 && day <= 13) ? "th" : d10 == 1 ? "st" : d10 == 2 ? "nd" : d10 == 3 ? "rd" : "th";
                break;
            }
            case 'w':
                out += std::to_string(wdi);
                break;
            case 'z': {
                const auto jan1 = date::local_days{ymd.year() / date::January / 1};
                out += std::to_string((ld - jan1).count());
                break;
            }
            case 'W':
                out += Two(static_cast<unsigned>(iw.weeknum()));
                break;
            case 'F':
                out += kMonthNames[month - 1];
                break;
            case 'm':
                out += Two(month);
                break;
            case 'M':
                out += std::string(kMonthNames[month - 1]).substr(0, 3);
                break;
            case 'n':
                out += std::to_string(month);
                break;
            case 't':
                out += std::to_string(static_cast<unsigned>((ymd.year() / ymd.month() / date::last).day()));
                break;
            case 'L':
                out += ymd.year().is_leap() ? "1" : "0";
                break;
            case 'o':
                out += std::to_string(static_cast<int>(iw.year()));
                break;
            case 'Y': {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%04ld", year);
                out += buf;
                break;
            }
            case 'y':
                out += Two(year % 100);
                break;
            case 'a':
                out += hour < 12 ? "am" : "pm";
                break;
            case 'A':
                out += hour < 12 ? "AM" : "PM";
                break;
            case 'g':
                out += std::to_string(h12);
                break;
            case 'G':
                out += std::to_string(hour);
                break;
            case 'h':
                out += Two(h12);
                break;
            case 'H':
                out += Two(hour);
                break;
            case 'i':
                out += Two(minute);
                break;
            case 's':
                out += Two(second);
                break;
            case 'u': {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%06ld", micros);
                out += buf;
                break;
            }
            case 'v': {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%03ld", micros / 1000);
                out += buf;
                break;
            }
            case 'e':
                out += zone->name();
                break;
            case 'T':
                out += info.abbrev;
                break;
            case 'P':
                out += Offset(info.offset, true);
                break;
            case 'O':
                out += Offset(info.offset, false);
                break;
            case 'p':
                out += info.offset.count() == 0 ? "Z" : Offset(info.offset, true);
                break;
            case 'Z':
                out += std::to_string(info.offset.count());
                break;
            case 'I':
                out += info.save.count() != 0 ? "1" : "0";
                break;
            case 'U':
                out += std::to_string(date::floor<std::chrono::seconds>(t).time_since_epoch().count());
                break;
            case 'c':
                out += Format(t, zone, "Y-m-d\\TH:i:sP");
                break;
            case 'r':
                out += Format(t, zone, "D, d M Y H:i:s O");
                break;
            case '\\':
                if (i + 1 < fmt.size()) out += fmt[++i];
                break;
            default:
                out += c;
        }
    }
    return out;
}

Result<json::value> DateFormula(Args a, const FormulaContext& ctx) {
    auto zone = Zone(Arg(a, 2), "date");
    if (!zone) return zone.error();
    auto t = ParseInstant(Arg(a, 0), *zone, ctx, "date");
    if (!t) return t.error();
    const std::string fmt = a.size() > 1 && !a[1].is_null() ? ArgText(a, 1) : "c";
    if (fmt == "U") return json::value(date::floor<std::chrono::seconds>(*t).time_since_epoch().count());
    return json::value(Format(*t, *zone, fmt));
}

Result<json::value> DateAdd(Args a, const FormulaContext& ctx) {
    auto zone = Zone(Arg(a, 3), "date_add");
    if (!zone) return zone.error();
    auto t = ParseInstant(Arg(a, 0), *zone, ctx, "date_add");
    if (!t) return t.error();
    auto amount = ToInteger(Arg(a, 1));
    if (!amount) return FormulaError("date_add", "the amount must be an integer");
    std::string unit = ArgText(a, 2);
    if (!unit.empty() && unit.back() == 's') unit.pop_back();
    Instant out = *t;
    if (unit == "second") {
        out += std::chrono::seconds{*amount};
    } else if (unit == "minute") {
        out += std::chrono::minutes{*amount};
    } else if (unit == "hour") {
        out += std::chrono::hours{*amount};
    } else if (unit == "day" || unit == "week" || unit == "month" || unit == "year") {
        // Calendar units move the local date, keeping the local time of day.
        const auto local = date::zoned_time<microseconds>{*zone, *t}.get_local_time();
        auto ld = date::floor<date::days>(local);
        const auto time_of_day = local - ld;
        if (unit == "day" || unit == "week") {
            ld += date::days{*amount * (unit == "week" ? 7 : 1)};
        } else {
            date::year_month_day ymd{ld};
            auto ym = ymd.year() / ymd.month();
            ym += unit == "month" ? date::months{*amount} : date::months{*amount * 12};
            const auto last = (ym / date::last).day();
            ld = date::local_days{ym / (ymd.day() > last ? last : ymd.day())};
        }
        out = date::zoned_time<microseconds>{*zone, ld + time_of_day, date::choose::earliest}.get_sys_time();
    } else {
        return FormulaError(
            "date_add", "unknown unit '" + ArgText(a, 2) + "' (seconds, minutes, hours, days, weeks, months, years)");
    }
    return json::value(Format(out, *zone, "c"));
}

const FormulaSpec kDate[] = {
    {"date", "date", 1, 3, DateFormula},
    {"date_add", "date", 3, 4, DateAdd},
};

}  // namespace

std::span<const FormulaSpec> DateFormulas() { return kDate; }

bool IsKnownTimeZone(std::string_view name) {
    try {
        return date::locate_zone(name) != nullptr;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace weft::engine
