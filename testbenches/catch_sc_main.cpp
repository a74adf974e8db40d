// Catch2 runner for testbenches that use SystemC: SystemC's library owns
// main() and calls sc_main(), which hands over to Catch.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <systemc>

int sc_main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
