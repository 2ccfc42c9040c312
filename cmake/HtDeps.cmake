# SPDX-License-Identifier: MIT
# Detects the optional parts (DPDK, XRT, Verilator) and the required ones (libpcap, liquid-dsp, cmocka).
# A missing optional part is reported in one line and the rest still builds.
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

option(HT_ENABLE_DPDK "use DPDK when it is installed" ON)
option(HT_ENABLE_XRT "use XRT when it is installed" ON)
option(HT_ENABLE_VERILATOR "use Verilator when it is installed" ON)

# DPDK (optional): kernel-bypass receive.
if(HT_ENABLE_DPDK)
  pkg_check_modules(DPDK QUIET IMPORTED_TARGET libdpdk)
endif()
if(DPDK_FOUND)
  set(HT_HAVE_DPDK ON)
  message(STATUS "hedgetrig: DPDK ${DPDK_VERSION} found: building the DPDK receive path")
else()
  set(HT_HAVE_DPDK OFF)
  message(STATUS "hedgetrig: DPDK not found (libdpdk-dev): building without the DPDK receive path")
endif()

# XRT (optional): its xrt.pc is broken on Debian 12, so look for the header and libraries directly.
if(HT_ENABLE_XRT)
  find_path(XRT_INCLUDE_DIR xrt/xrt_device.h PATHS /usr/include/xrt /opt/xilinx/xrt/include)
  find_library(XRT_COREUTIL_LIBRARY xrt_coreutil PATHS /opt/xilinx/xrt/lib)
endif()
if(HT_ENABLE_XRT AND XRT_INCLUDE_DIR AND XRT_COREUTIL_LIBRARY)
  set(HT_HAVE_XRT ON)
  message(STATUS "hedgetrig: XRT found (${XRT_COREUTIL_LIBRARY}): building the xrt backend")
else()
  set(HT_HAVE_XRT OFF)
  message(STATUS "hedgetrig: XRT not found (libxrt-dev): building without the xrt backend")
endif()

# Verilator 5 (optional): the RTL as a C-callable model.
if(HT_ENABLE_VERILATOR)
  find_package(verilator 5 QUIET HINTS /usr/share/verilator $ENV{VERILATOR_ROOT})
endif()
if(HT_ENABLE_VERILATOR AND verilator_FOUND)
  set(HT_HAVE_VERILATOR ON)
  message(STATUS "hedgetrig: Verilator ${verilator_VERSION} found: building the verilator backend")
else()
  set(HT_HAVE_VERILATOR OFF)
  message(STATUS "hedgetrig: Verilator 5 not found: building without the verilator backend")
endif()

# cmocka (tests only).
if(HT_BUILD_TESTS)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
  if(NOT CMOCKA_FOUND)
    message(STATUS "hedgetrig: cmocka not found (libcmocka-dev): tests are not built")
    set(HT_BUILD_TESTS OFF)
  endif()
endif()
