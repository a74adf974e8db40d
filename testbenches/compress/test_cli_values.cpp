// The command-line value and output-path rules every tool shares
// (hw/cli_values.hpp): the syntax of --set, one message pattern, UsageError.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "eie/hw/cli_values.hpp"
#include "testbenches/common/temp_dir.hpp"

using namespace eie;
using Catch::Contains;
namespace fs = std::filesystem;

TEST_CASE("cli values: integers are decimal digits with an optional minus, in range") {
    CHECK(parse_int_option("4", "--x", 1, 10) == 4);
    CHECK(parse_int_option("-8", "--x", -8, 30) == -8);
    CHECK(parse_int_option("0", "--x", -8, 30) == 0);
    CHECK(parse_int_option("9223372036854775807", "--x", 0, std::numeric_limits<long long>::max()) ==
          std::numeric_limits<long long>::max());
    CHECK(parse_int_option("-9223372036854775808", "--x", std::numeric_limits<long long>::min(), 0) ==
          std::numeric_limits<long long>::min());
    for (const char* bad : {"", " 4", "4 ", "+4", "4.0", "1e3", "0x10", "4a", "-", "--4", "nan", "inf"})
        CHECK_THROWS_WITH(parse_int_option(bad, "--x", 1, 10),
                          Contains("--x: '") && Contains("' is not an integer (allowed: 1 .. 10)"));
    CHECK_THROWS_WITH(parse_int_option("11", "--x", 1, 10), "--x: 11 is out of range (allowed: 1 .. 10)");
    CHECK_THROWS_WITH(parse_int_option("0", "--x", 1, 10), "--x: 0 is out of range (allowed: 1 .. 10)");
    CHECK_THROWS_WITH(parse_int_option("-9", "--w-frac", -8, 30), "--w-frac: -9 is out of range (allowed: -8 .. 30)");
    // digits beyond 64 bits are an integer out of every range, not a syntax error
    CHECK_THROWS_WITH(parse_int_option("99999999999999999999999", "--x", 1, 10), Contains("is out of range"));
    CHECK_THROWS_WITH(parse_int_option("9223372036854775808", "--x", 0, std::numeric_limits<long long>::max()),
                      Contains("is out of range"));
    CHECK_THROWS_AS(parse_int_option("x", "--x", 1, 10), UsageError);
}

TEST_CASE("cli values: unsigned integers take the whole 64-bit range and refuse negatives") {
    CHECK(parse_uint_option("0", "--first") == 0);
    CHECK(parse_uint_option("-0", "--first") == 0);
    CHECK(parse_uint_option("18446744073709551615", "--first") == std::numeric_limits<uint64_t>::max());
    CHECK_THROWS_WITH(parse_uint_option("18446744073709551616", "--first"),
                      "--first: 18446744073709551616 is out of range (allowed: 0 .. 18446744073709551615)");
    CHECK_THROWS_WITH(parse_uint_option("-3", "--vcd-from"),
                      "--vcd-from: -3 is out of range (allowed: 0 .. 18446744073709551615)");
    CHECK_THROWS_WITH(parse_uint_option("1.5", "--count", 1), Contains("'1.5' is not an integer (allowed: 1 .. "));
    CHECK_THROWS_WITH(parse_uint_option("0", "--jobs", 1, 1024), "--jobs: 0 is out of range (allowed: 1 .. 1024)");
    CHECK(parse_uint_option("1024", "--jobs", 1, 1024) == 1024);
}

TEST_CASE("cli values: numbers are finite, in an open or closed range") {
    CHECK(parse_number_option("0.5", "--d", NumberRange(0, 1)) == 0.5);
    CHECK(parse_number_option("1e-3", "--lr", NumberRange(0, 1e12, true)) == 1e-3);
    CHECK(parse_number_option("-2", "--t", NumberRange()) == -2);
    CHECK(parse_number_option("1", "--d", NumberRange(0, 1, true, false, "D")) == 1);
    for (const char* bad : {"", " 0.5", "0.5 ", "0x1", "abc", "nan", "inf", "-inf", "1e999"})
        CHECK_THROWS_WITH(parse_number_option(bad, "--d", NumberRange(0, 1)),
                          Contains("' is not a finite number (allowed: 0 .. 1)"));
    CHECK_THROWS_WITH(parse_number_option("0", "--density", NumberRange(0, 1, true, false, "D")),
                      "--density: 0 is out of range (allowed: 0 < D <= 1)");
    CHECK_THROWS_WITH(parse_number_option("1.5", "--d", NumberRange(0, 1, true)),
                      "--d: 1.5 is out of range (allowed: 0 < x <= 1)");
    CHECK_THROWS_WITH(parse_number_option("-1", "--threshold", NumberRange(0)),
                      "--threshold: -1 is out of range (allowed: x >= 0)");
    CHECK(NumberRange(0, 1, false, true, "P").allowed() == "0 <= P < 1");
}

TEST_CASE("cli values: probabilities lie in 0 .. max") {
    CHECK(parse_probability_option("0", "--stall", 0.99) == 0);
    CHECK(parse_probability_option("0.99", "--stall", 0.99) == 0.99);
    CHECK_THROWS_WITH(parse_probability_option("1.5", "--stall", 0.99),
                      "--stall: 1.5 is out of range (allowed: 0 <= P <= 0.99)");
    CHECK_THROWS_WITH(parse_probability_option("-0.1", "--p"), "--p: -0.1 is out of range (allowed: 0 <= P <= 1)");
    CHECK_THROWS_WITH(parse_probability_option("half", "--p"), Contains("'half' is not a finite number"));
}

TEST_CASE("cli values: output files need a writable parent directory and must not be directories") {
    eie::test::TempDir t("eie-cli-values");
    CHECK_NOTHROW(check_output_file(t / "out.json", "--stats"));
    CHECK_THROWS_WITH(check_output_file("", "--stats"), "--stats: empty file name");
    CHECK_THROWS_WITH(check_output_file(t / "no/such/out.json", "--stats"),
                      Contains("--stats '") && Contains("parent directory '" + t / "no/such" + "' does not exist"));
    std::ofstream(t / "regular") << "x";
    CHECK_THROWS_WITH(check_output_file(t / "regular/out.json", "--json"),
                      Contains("'" + t / "regular" + "' is not a directory"));
    fs::create_directory(t / "dir");
    CHECK_THROWS_WITH(check_output_file(t / "dir", "--vcd"), "--vcd '" + t / "dir" + "': is a directory");
    if (::geteuid() != 0) {  // root writes into any directory
        fs::create_directory(t / "ro");
        ::chmod((t / "ro").c_str(), 0555);
        CHECK_THROWS_WITH(check_output_file(t / "ro/out.json", "--json"), Contains("is not writable"));
        ::chmod((t / "ro").c_str(), 0755);
    }
}

TEST_CASE("cli values: an image directory target may replace an image, nothing else") {
    eie::test::TempDir t("eie-cli-values");
    CHECK_NOTHROW(check_image_dir_target(t / "new", "-o"));
    CHECK_NOTHROW(check_image_dir_target(t / "new/", "-o"));
    fs::create_directory(t / "img");
    std::ofstream(t / "img/manifest.json") << R"({"format": "eie-image"})";
    CHECK_NOTHROW(check_image_dir_target(t / "img", "-o"));
    fs::create_directory(t / "other");
    std::ofstream(t / "other/file.txt") << "keep";
    CHECK_THROWS_WITH(check_image_dir_target(t / "other/", "--easy-output"),
                      Contains("--easy-output '" + t / "other" + "': exists and is not an image directory") &&
                          Contains("refusing to replace it"));
    std::ofstream(t / "file") << "x";
    CHECK_THROWS_WITH(check_image_dir_target(t / "file", "-o"), Contains("exists and is not an image directory"));
    CHECK_THROWS_WITH(check_image_dir_target(t / "no/such/img", "-o"), Contains("does not exist"));
}

TEST_CASE("cli values: one value for every layer, or one per layer") {
    CHECK(per_layer_values("0.5", 3, "--density") == std::vector<std::string>{"0.5", "0.5", "0.5"});
    CHECK(per_layer_values("1,2", 2, "--w-frac") == std::vector<std::string>{"1", "2"});
    CHECK_THROWS_WITH(per_layer_values("1,2", 3, "--w-frac"),
                      "--w-frac: 2 values given for 3 layers (give one value for all, or one per layer)");
}

TEST_CASE("cli values: architecture options apply --config, then shortcuts, then --set, and validate") {
    eie::test::TempDir t("eie-cli-values");
    std::ofstream(t / "arch.json") << R"({"num_pes": 8, "queue_depth": 2})";
    ArchOptions o;
    o.config = t / "arch.json";
    o.shortcuts = {{"--pes", "num_pes=16"}};
    o.sets = {"num_pes=32"};
    const ArchConfig a = apply_arch_options(ArchConfig{}, o, "architecture");
    CHECK(a.num_pes == 32);      // --set last
    CHECK(a.queue_depth == 2);   // from the file
    o.sets.clear();
    CHECK(apply_arch_options(ArchConfig{}, o, "architecture").num_pes == 16);
    o.shortcuts = {{"--pes", "num_pes= 4"}};
    CHECK_THROWS_AS(apply_arch_options(ArchConfig{}, o, "architecture"), ConfigError);
    ArchOptions missing;
    missing.config = t / "none.json";
    CHECK_THROWS_WITH(apply_arch_options(ArchConfig{}, missing, "architecture"), Contains("none.json"));
    CHECK(command_line_text(0, nullptr).empty());
}

TEST_CASE("cli values: an output file is written atomically, a failure names the option") {
    eie::test::TempDir t("eie-cli-values");
    write_output_file(t / "out.json", "{}\n", "--json");
    std::ifstream in(t / "out.json");
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "{}\n");
    CHECK_THROWS_WITH(write_output_file(t / "no/such/out.json", "x", "--json"), Contains("--json ") && Contains("out.json"));
    CHECK_FALSE(fs::exists(t / "no"));
}
