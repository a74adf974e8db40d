// sc_core::sc_start() for the model's runs, made safe for AddressSanitizer.
//
// SystemC 2.3.4 (Debian's build, QuickThreads coroutines) tells ASan about
// every switch to a process's stack, but announces the switch back to the
// main stack with an empty range: afterwards ASan believes the main stack is
// [0, 0). An exception thrown on the main stack then cannot have the frames
// it unwinds unpoisoned ("ASan is ignoring requested __asan_handle_no_return"),
// and their stale poison is reported later as a stack-use-after-scope that
// never happened (docs/input-safety.md, "SystemC and AddressSanitizer").
// run_systemc() gives ASan the main stack's real range back after sc_start()
// returns or throws, and clears the dead stack below the caller. Without ASan
// it is sc_start() and nothing else.
#pragma once

namespace eie {

void run_systemc();

}  // namespace eie
