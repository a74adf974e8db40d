#include "eie/hw/model/systemc_run.hpp"

#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#define EIE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EIE_ASAN 1
#endif
#endif

#ifdef EIE_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#include <cstdint>
#endif

namespace eie {

#ifdef EIE_ASAN
namespace {

struct Range {
    char* low = nullptr;
    std::size_t size = 0;
};

// The calling thread's stack as the C library knows it (for the main thread:
// from the stack rlimit), independent of what ASan was last told.
Range thread_stack() {
    Range r;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return r;
    void* low = nullptr;
    if (pthread_attr_getstack(&attr, &low, &r.size) == 0) r.low = static_cast<char*>(low);
    pthread_attr_destroy(&attr);
    return r;
}

// Called with the stack as it was before sc_start(): says it is the current
// stack again (a fiber switch onto itself), and unpoisons the dead part below
// this frame, where frames unwound while ASan had lost track left poison.
__attribute__((noinline)) void restore_main_stack(const Range& stack) {
    if (!stack.low) return;
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, stack.low, stack.size);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
    char* const here = static_cast<char*>(__builtin_frame_address(0));
    const std::size_t margin = 256;  // this frame's own locals lie at and just below the frame address
    if (here > stack.low + margin && here <= stack.low + stack.size)
        __asan_unpoison_memory_region(stack.low, std::size_t(here - margin - stack.low));
}

}  // namespace

void run_systemc() {
    static const Range stack = thread_stack();
    try {
        sc_core::sc_start();
    } catch (...) {
        restore_main_stack(stack);
        throw;
    }
    restore_main_stack(stack);
}
#else
void run_systemc() { sc_core::sc_start(); }
#endif

}  // namespace eie
