// Include in the file of a tool's sc_main() (once per executable) to keep the
// SystemC copyright banner off the tool's output.
//
// SystemC prints its banner unless SYSTEMC_DISABLE_COPYRIGHT_MESSAGE is set
// when the kernel starts. The library owns main() and prints the banner from
// sc_elab_and_sim() *before* sc_main() runs (measured with SystemC 2.3.4), so
// neither a setenv() in sc_main nor a re-exec from sc_main would stop the
// first banner. A namespace-scope initialiser of the executable runs before
// the library's main(), which is early enough. An explicit setting by the
// user (e.g. =0) is kept.
#pragma once

#include <cstdlib>

namespace eie {

struct QuietSystemC {
    QuietSystemC() { setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0); }
};
inline QuietSystemC quiet_systemc;

}  // namespace eie
