# SPDX-License-Identifier: MIT
# Detects the required parts (libpcap, liquid-dsp) and the optional ones (DPDK, XRT, Verilator, liburing, cmocka,
# QuantLib, QuickFIX, tshark, yosys). A missing optional part is reported in one line naming its Debian package, the rest
# still builds, and the tests that need it are registered as skipped (tests/CMakeLists.txt), never left out.
# With HT_REQUIRE_ALL=ON (scripts/test.sh, CI) a missing or switched-off optional part fails the configure.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# libpcap: the offline replay path (required).
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)

# liquid-dsp has no pkg-config file.
find_path(LIQUID_INCLUDE_DIR liquid/liquid.h)
find_library(LIQUID_LIBRARY liquid)
if(LIQUID_INCLUDE_DIR AND LIQUID_LIBRARY)
  add_library(ht::liquid UNKNOWN IMPORTED)
  set_target_properties(ht::liquid PROPERTIES IMPORTED_LOCATION "${LIQUID_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LIQUID_INCLUDE_DIR}")
  set(HT_HAVE_LIQUID ON)
else()
  message(FATAL_ERROR "hedgetrig: liquid-dsp not found (apt-get install libliquid-dev)")
endif()

option(HT_REQUIRE_ALL "fail the configure when an optional part is missing or switched off (CI)" OFF)
option(HT_ENABLE_DPDK "use DPDK when it is installed" ON)
option(HT_ENABLE_XRT "use XRT when it is installed" ON)
option(HT_ENABLE_VERILATOR "use Verilator when it is installed" ON)
option(HT_ENABLE_URING "build the gateway's io_uring send path when liburing is installed" ON)
option(HT_ENABLE_CMOCKA "build the cmocka tests when cmocka is installed" ON)
option(HT_ENABLE_QUANTLIB "test against QuantLib when it is installed" ON)
option(HT_ENABLE_QUICKFIX "test against QuickFIX's executor when it is installed" ON)
option(HT_ENABLE_TSHARK "decode our FIX traffic with tshark when it is installed" ON)
option(HT_ENABLE_YOSYS "elaborate the RTL with yosys when it is installed" ON)
set(HT_PARTS_MISSING "")

# ht_part(KEY NAME PACKAGES FOUND WITHOUT): records whether optional part KEY is usable (HT_HAVE_<KEY>). When it
# is not, HT_PART_WHY_<KEY> is the sentence its skipped tests print, and the configure says what is built without.
macro(ht_part key name packages found without)
  if(HT_ENABLE_${key} AND ${found})
    set(HT_HAVE_${key} ON)
  else()
    set(HT_HAVE_${key} OFF)
    if(HT_ENABLE_${key})
      set(HT_PART_WHY_${key} "${name} is not installed (Debian: apt-get install ${packages})")
    else()
      set(HT_PART_WHY_${key} "${name} is switched off (HT_ENABLE_${key}=OFF, Debian package: ${packages})")
    endif()
    list(APPEND HT_PARTS_MISSING "${HT_PART_WHY_${key}}")
    message(STATUS "hedgetrig: ${HT_PART_WHY_${key}}: ${without}; its tests are reported as skipped")
  endif()
endmacro()

# ht_pkg_part(KEY MODULE NAME PACKAGES WHAT): an optional part that pkg-config finds as MODULE (imported target
# PkgConfig::KEY, version KEY_VERSION); WHAT is what it builds ("the DPDK receive path").
macro(ht_pkg_part key module name packages what)
  if(HT_ENABLE_${key})
    pkg_check_modules(${key} QUIET IMPORTED_TARGET ${module})
  endif()
  ht_part(${key} "${name}" "${packages}" ${key}_FOUND "building without ${what}")
  if(HT_HAVE_${key})
    message(STATUS "hedgetrig: ${name} ${${key}_VERSION} found: building ${what}")
  endif()
endmacro()

# DPDK: kernel-bypass receive.
ht_pkg_part(DPDK libdpdk "DPDK" "libdpdk-dev" "the DPDK receive path")

# XRT: its xrt.pc is broken on Debian 12, so look for the header and libraries directly.
if(HT_ENABLE_XRT)
  find_path(XRT_INCLUDE_DIR xrt/xrt_device.h PATHS /usr/include/xrt /opt/xilinx/xrt/include)
  find_library(XRT_COREUTIL_LIBRARY xrt_coreutil PATHS /opt/xilinx/xrt/lib)
endif()
set(_xrt_found OFF)
if(XRT_INCLUDE_DIR AND XRT_COREUTIL_LIBRARY)
  set(_xrt_found ON)
endif()
ht_part(XRT "XRT" "libxrt-dev" _xrt_found "building without the xrt backend")
if(HT_HAVE_XRT)
  message(STATUS "hedgetrig: XRT found (${XRT_COREUTIL_LIBRARY}): building the xrt backend")
endif()

# Verilator 5: the RTL as a C-callable model.
if(HT_ENABLE_VERILATOR)
  find_package(verilator 5 QUIET HINTS /usr/share/verilator $ENV{VERILATOR_ROOT})
endif()
ht_part(VERILATOR "Verilator 5" "verilator" verilator_FOUND "building without the verilator backend")
if(HT_HAVE_VERILATOR)
  message(STATUS "hedgetrig: Verilator ${verilator_VERSION} found: building the verilator backend")
endif()

# liburing: the gateway's io_uring send path ([gateway] send = io_uring, docs/gateway.md).
ht_pkg_part(URING liburing "liburing" "liburing-dev" "the gateway's io_uring send path")

# The test tools. cmocka runs the unit tests; QuantLib, QuickFIX's executor, tshark and yosys are the
# independent references some tests compare against.
if(HT_ENABLE_CMOCKA)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
endif()
ht_part(CMOCKA "cmocka" "libcmocka-dev" CMOCKA_FOUND "the unit test programs are not built")

if(HT_ENABLE_QUANTLIB)
  pkg_check_modules(QUANTLIB QUIET IMPORTED_TARGET quantlib)
endif()
ht_part(QUANTLIB "QuantLib" "libquantlib0-dev" QUANTLIB_FOUND "no comparison with QuantLib")

set(HT_QF_EXECUTOR_SRC "/usr/share/doc/libquickfix-doc/examples/executor/C++" CACHE PATH
    "QuickFIX executor example sources")
set(_qf_found OFF)
if(HT_ENABLE_QUICKFIX)
  find_program(HT_CXX_FOR_QF NAMES g++ c++ clang++)
  find_path(HT_QF_INCLUDE_DIR quickfix/Application.h)
  if(EXISTS "${HT_QF_EXECUTOR_SRC}/Application.cpp.gz" AND HT_QF_INCLUDE_DIR AND HT_CXX_FOR_QF)
    set(_qf_found ON)
  endif()
endif()
ht_part(QUICKFIX "QuickFIX (headers and the executor example)" "libquickfix-dev libquickfix-doc" _qf_found
        "no interoperability test against QuickFIX")

if(HT_ENABLE_TSHARK)
  find_program(HT_TSHARK tshark)
endif()
ht_part(TSHARK "tshark" "tshark" HT_TSHARK "no decode of our FIX traffic by Wireshark's dissector")

if(HT_ENABLE_YOSYS)
  find_program(HT_YOSYS yosys)
endif()
ht_part(YOSYS "yosys" "yosys" HT_YOSYS "the RTL is not elaborated by yosys")

if(HT_REQUIRE_ALL AND HT_PARTS_MISSING)
  list(JOIN HT_PARTS_MISSING "\n  " _missing)
  message(FATAL_ERROR "hedgetrig: HT_REQUIRE_ALL is ON and these parts are missing:\n  ${_missing}\n"
          "Install them (scripts/install-deps.sh test) or configure without -DHT_REQUIRE_ALL=ON.")
endif()
