// `migchan proxy` between a real source and a real destination of every installed QEMU, through
// conform's proxy scenarios: natural order completes on both sides; a multifd channel dialed
// before main makes a 7.2 destination print the model's line (the source may still say
// completed: the proxy's buffers hold the small stream) and is fine for 11.1, which peeks.
#include "impl/conform/conform.h"
#include "tests/interop/harness.h"
#include "tests/interop/migchan_exe.h"

using namespace migchan;
using namespace migchan::interop;

TEST_CASE("proxy between a real source and a real destination, in natural and multifd-first order") {
  MIGCHAN_FOR_EACH_QEMU(q) {
    const conform::binary b{q->binary, *q->version};
    const auto t = conform::make_target(b, b);
    for (const char* name : {"proxy-natural", "proxy-multifd-first"}) {
      CAPTURE(name);
      const auto r = conform::run({migchan_exe()}, t, *conform::find_scenario(name));
      INFO(r.prediction << "\n" << r.outcome << "\n" << r.why << "\n" << r.details.dump());
      CHECK(r.verdict == conform::verdict_kind::agree);
      const bool peeks = t.classifier->name != std::string("qemu-7.2");
      if (std::string(name) == "proxy-natural" || peeks) {
        CHECK(r.fate == "started");
        CHECK(r.details["source_status"] == "completed");
      } else {
        CHECK(r.fate == "waiting");
        CHECK(r.details["stderr"].get<std::string>().find("received packet magic 5145564d expected 11223344") !=
              std::string::npos);
      }
    }
  }
}
